"""The dev score a run stores is the score `cli.py evaluate RUN --split dev` gives: one
inference path, per word, the same batches, to the last bit (issue 10)."""
import json

import pytest

from core.train.config import TrainConfig
from core.train.launch import create_finetune_run
from core.train.runner import execute
from db import runs as run_repo
from tests.commands.test_cli_train import cli
from tests.tiny_models import seed_project


def train_run(S, project: str, config: TrainConfig) -> dict:
    with S.begin() as s:
        run_id = create_finetune_run(s, project, config, status="running").id
    execute(run_id)  # the worker's handler, as `cli.py train` runs it
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        assert run.status == "completed", run.error
        curve = [p.value for p in run_repo.points(s, [run_id]) if p.name in ("dev_f1", "dev_macro_f1")]
        return {"id": run_id, "curve": curve, **run.metrics}


def evaluate_dev(home, run_id: int) -> dict:
    done = cli(home, "evaluate", str(run_id), "--split", "dev")  # another process, as a user runs it
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("label_all_tokens", [False, True])
def test_ner_dev_f1_stored_by_the_run_equals_cli_evaluate(S, home, tiny_model, label_all_tokens):
    seed_project(S, "p", "ner", n_train=32, n_dev=12)
    stored = train_run(S, "p", TrainConfig(model=str(tiny_model), max_steps=40, batch_size=8, learning_rate=3e-3,
                                           head_lr_factor=1.0, label_all_tokens=label_all_tokens, seed=3))
    assert stored["split"] == "dev" and stored["f1"] > 0.3  # it learned something: the equality is not 0 == 0
    evaluated = evaluate_dev(home, stored["id"])
    assert evaluated["n"] == stored["dev_samples"] == 12
    assert (evaluated["f1"], evaluated["precision"], evaluated["recall"]) == \
        (stored["f1"], stored["precision"], stored["recall"])
    assert evaluated["per_label"] == stored["per_label"]
    # The dev curve is scored the same way (per word, also with label_all_tokens), and the run
    # keeps the weights of its best point.
    assert max(stored["curve"]) == stored["f1"]


def test_classification_dev_scores_stored_by_the_run_equal_cli_evaluate(S, home, tiny_model):
    seed_project(S, "c", "classification", n_train=32, n_dev=12)
    stored = train_run(S, "c", TrainConfig(model=str(tiny_model), max_steps=30, batch_size=8, learning_rate=3e-3,
                                           seed=3))
    evaluated = evaluate_dev(home, stored["id"])
    assert stored["accuracy"] > 0.5
    assert (evaluated["accuracy"], evaluated["macro_f1"], evaluated["confusion"]) == \
        (stored["accuracy"], stored["macro_f1"], stored["confusion"])
