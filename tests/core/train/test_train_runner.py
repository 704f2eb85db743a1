"""The finetune handler against a real database: metrics, export, hold-out, continue + replay."""
from pathlib import Path

import pytest

from core.text.tokenize import word_offsets
from core.train.config import TrainConfig
from core.train.launch import create_finetune_run
from core.train.runner import execute
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests.tiny_models import ner_texts, seed_project


def run_now(S, project: str, config: TrainConfig) -> dict:
    with S.begin() as s:
        run_id = create_finetune_run(s, project, config, status="running").id
    execute(run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        return {"id": run.id, "status": run.status, "metrics": run.metrics, "checkpoint": run.checkpoint,
                "labels_used": run.labels_used, "trainable": run.trainable_params, "total": run.total_params,
                "peak": run.peak_memory_mb, "device": run.device, "progress": run.progress,
                "points": {p.name for p in run_repo.points(s, [run.id])}}


def test_a_run_writes_metrics_points_and_its_export(S, home, tiny_model):
    seed_project(S, "p", "ner", n_train=16, n_dev=4)
    run = run_now(S, "p", TrainConfig(model=str(tiny_model), max_steps=3, batch_size=8, log_every=1, eval_steps=2))
    assert run["status"] == "completed" and run["progress"] == 1.0
    assert run["metrics"]["split"] == "dev" and "f1" in run["metrics"] and run["metrics"]["dev_samples"] == 4
    assert Path(run["checkpoint"], "config.json").exists()
    assert run["labels_used"] == 16 and 0 < run["trainable"] <= run["total"] and run["peak"] > 0
    assert run["device"].startswith("cpu") and {"loss", "learning_rate", "dev_f1"} <= run["points"]


def test_without_a_dev_split_part_of_train_is_held_out_and_the_run_says_so(S, home, tiny_model):
    seed_project(S, "p", "classification", n_train=20, n_dev=0)
    run = run_now(S, "p", TrainConfig(model=str(tiny_model), max_steps=2, batch_size=8))
    assert run["metrics"]["split"] == "held-out train" and run["labels_used"] == 18
    assert "no labelled dev split: held out 2 of the train samples" in run["metrics"]["notes"][0]


def test_continue_from_a_run_trains_on_new_samples_plus_a_replayed_share(S, home, tiny_model):
    seed_project(S, "p", "ner", n_train=16, n_dev=4)
    first = run_now(S, "p", TrainConfig(model=str(tiny_model), max_steps=2, batch_size=8))
    with pytest.raises(ValueError, match="no samples were labelled since run 1"):
        run_now(S, "p", TrainConfig(model=str(tiny_model), max_steps=2, continue_from=first["id"]))
    with S.begin() as s:
        project = project_repo.get_project(s, "p")
        sample_repo.add_samples(s, project, [
            sample_repo.NewSample(t, word_offsets(t), split="train", status="labeled", spans=spans)
            for t, spans in ner_texts(6)])
    second = run_now(S, "p", TrainConfig(model=str(tiny_model), max_steps=2, batch_size=8,
                                         continue_from=first["id"], replay_share=0.5))
    assert second["status"] == "completed"
    assert "continued from run 1: 6 new samples + 8 replayed of 16 earlier ones" in second["metrics"]["notes"]
    assert second["labels_used"] == 14
