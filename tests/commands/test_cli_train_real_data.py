"""`cli.py train` with the packaged MiniLM on real data, a few steps per strategy; every export
loads in transformers.pipeline and tags/classifies a sentence."""
from __future__ import annotations

import json

import pytest
from transformers import pipeline

from tests.conftest import shared_file
from tests.commands.test_cli_train import cli

pytestmark = pytest.mark.slow
SUBSET = 120  # sentences per split: enough to exercise the path, quick to score


def head_conll(src, dst, sentences: int) -> None:
    blocks = src.read_text(encoding="utf-8").strip().split("\n\n")[:sentences]
    dst.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def run_json(home, *args) -> dict:
    done = cli(home, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_wnut_every_strategy_trains_and_exports_a_pipeline_model(home, tmp_path):
    train, dev = tmp_path / "train.conll", tmp_path / "dev.conll"
    head_conll(shared_file("wnut17", "train.conll"), train, SUBSET)
    head_conll(shared_file("wnut17", "dev.conll"), dev, SUBSET // 2)
    run_json(home, "project", "create", "wnut", "--task", "ner",
             "--labels", "person,location,group,creative-work,corporation,product")
    run_json(home, "import", "wnut", str(train), "--format", "conll", "--split", "train")
    run_json(home, "import", "wnut", str(dev), "--format", "conll", "--split", "dev")
    for strategy in ("full", "freeze", "lora", "bitfit"):
        out = run_json(home, "train", "wnut", "--strategy", strategy, "--max-steps", "4", "--batch-size", "8")
        assert out["status"] == "completed" and 0 <= out["metrics"]["f1"] <= 1
        tagger = pipeline("token-classification", model=out["checkpoint"], aggregation_strategy="simple")
        assert isinstance(tagger("Barack Obama visited the Eiffel Tower in Paris"), list)


def test_drug_reviews_classification_exports_a_text_classification_model(home, tmp_path):
    src = shared_file("drugreviews", "train.tsv")  # quoted reviews span lines: import the whole file
    run_json(home, "project", "create", "drugs", "--task", "classification", "--labels", "positive,neutral,negative")
    run_json(home, "import", "drugs", str(src), "--format", "tsv", "--split", "train", "--text-column", "review",
             "--label-column", "rating")
    for strategy in ("full", "lora"):
        out = run_json(home, "train", "drugs", "--strategy", strategy, "--max-steps", "3", "--batch-size", "8",
                       "--max-length", "128")
        assert out["status"] == "completed" and "held out" in " ".join(out["metrics"]["notes"])
        result = pipeline("text-classification", model=out["checkpoint"])("This medicine worked wonders for me.")
        assert result[0]["label"] in ("positive", "neutral", "negative")
