"""`cli.py train / runs / cancel` end to end in a subprocess (the same path users take)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny_models import make_tiny_model, seed_project

ROOT = Path(__file__).resolve().parents[2]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TAGTUNE_HOME": str(home)}
    env.pop("TAGTUNE_DB_URL", None)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def tiny(S, home, tmp_path):
    seed_project(S, "tiny", "ner", n_train=16, n_dev=4)
    seed_project(S, "reviews", "classification", n_train=16, n_dev=4)
    return make_tiny_model(tmp_path / "tiny")


@pytest.mark.slow
def test_train_in_the_foreground_then_list_runs(home, tiny):
    done = cli(home, "train", "tiny", "--model", str(tiny), "--strategy", "bitfit", "--max-steps", "3",
               "--batch-size", "8", "--lr", "0.001", "--seed", "7")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "completed" and out["run_id"] == 1
    assert set(out["metrics"]) >= {"f1", "precision", "recall", "split"}
    assert Path(out["checkpoint"], "config.json").exists()
    cls = json.loads(cli(home, "train", "reviews", "--model", str(tiny), "--max-steps", "2").stdout)
    assert cls["status"] == "completed" and "accuracy" in cls["metrics"]

    listed = json.loads(cli(home, "runs", "tiny").stdout)
    assert [(r["id"], r["status"], r["strategy"], r["metric"]) for r in listed["runs"]] == \
        [(1, "completed", "bitfit", "f1")]


def test_background_only_queues_and_cancel_cancels(home, tiny):
    queued = cli(home, "train", "tiny", "--model", str(tiny), "--background")
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout)["status"] == "queued"
    cancelled = json.loads(cli(home, "cancel", "1").stdout)
    assert cancelled == {"run_id": 1, "status": "cancelled", "cancel_requested": True}


def test_bad_settings_fail_with_one_line_naming_the_field(home, tiny):
    bad = cli(home, "train", "tiny", "--warmup-ratio", "3")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip() == ("error: warmup_ratio is 3.0: expected a value from 0 to 0.99; "
                                  "it is a share of the steps, e.g. 0.1")
    missing = cli(home, "train", "nope")
    assert missing.returncode == 1 and "no project named 'nope'" in missing.stderr
