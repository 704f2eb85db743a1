"""ICL runs end to end on a real SQLite database with tiny causal LMs built in tmp_path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cli
from core.icl import runner
from core.icl.launch import create_icl_run
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm
from tests.core.icl import tinylm

ROOT = Path(__file__).resolve().parents[3]


def test_classification_run_stores_predictions_and_scores_them(S, tmp_path):
    tm.cls_project(S)  # labels pos/neg; 6 labelled test samples, 3 of them pos
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["pos"])
    with S.begin() as s:
        run_id = create_icl_run(s, "toycls", {"lm": str(lm), "shots": 2, "selection": "random"}, status="running").id
    runner.execute(run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        preds = run_repo.predictions(s, run_id)
        assert run.status == "completed", run.error
        assert run.kind == "icl" and run.labels_used == 6 and run.total_params > 0
        assert len(preds) == 6 and all(p.output["categories"] == ["pos"] for p in preds)
        assert set(preds[0].output["scores"]) == {"pos", "neg"} and set(json.loads(preds[0].raw)) == {"pos", "neg"}
        # The model always says "pos": accuracy is the share of pos in the test split.
        assert run.metrics["accuracy"] == pytest.approx(0.5)
        assert run.metrics["split"] == "test" and run.metrics["seconds_per_sample"] > 0
        names = {p.name for p in run_repo.points(s, [run_id])}
        assert {"seconds_per_sample", "exact_match"} <= names and run.progress == 1.0


def test_ner_run_reports_f1_and_dropped_mentions(S, tmp_path):
    tm.ner_project(S)
    lm = tinylm.random_llama(tmp_path / "lm")
    with S.begin() as s:
        run_id = create_icl_run(s, "toyner", {"lm": str(lm), "shots": 1, "selection": "balanced",
                                              "max_new_tokens": 6, "limit": 3}, status="running").id
    runner.execute(run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        assert run.status == "completed", run.error
        assert {"f1", "precision", "recall", "dropped_mentions"} <= set(run.metrics)
        assert run.metrics["n"] == 3 and isinstance(run.metrics["dropped_mentions"], int)
        assert all("spans" in p.output and p.raw is not None for p in run_repo.predictions(s, run_id))


def test_suggest_mode_stores_llm_suggestions_for_unlabelled_samples(S, tmp_path):
    pid = tm.cls_project(S)  # 4 unlabelled samples
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["neg"])
    with S.begin() as s:
        run_id = create_icl_run(s, "toycls", {"lm": str(lm), "shots": 1, "suggest": True}, status="running").id
    runner.execute(run_id)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        rows = list(sample_repo.iter_labeled(s, project, statuses=("unlabeled",), source="llm"))
        assert len(rows) == 4
        assert all(r.categories == ["neg"] and 0.5 < r.confidence <= 1 for r in rows)
        assert run_repo.get_run(s, run_id).metrics["suggested"] == 4


def test_cancel_stops_the_run(S, tmp_path):
    tm.cls_project(S)
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["pos"])
    with S.begin() as s:
        run_id = create_icl_run(s, "toycls", {"lm": str(lm), "shots": 0, "batch_size": 1}, status="running").id
        run_repo.request_cancel(s, run_id)
    runner.execute(run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        assert run.status == "cancelled" and run_repo.predictions(s, run_id) == []


def test_cli_icl_prints_run_metrics_and_seconds(S, home, tmp_path):
    tm.cls_project(S)
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["pos"])
    # A fresh process, as a user runs it: the foreground run forks a child, and a fork after this
    # test process has used torch's thread pool can deadlock the child.
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "icl", "toycls", "--lm", str(lm), "--shots", "2",
         "--select", "knn", "--limit", "4"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TAGTUNE_HOME": str(home)}, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "completed" and out["metrics"]["n"] == 4
    assert out["metrics"]["accuracy"] == pytest.approx(0.5) and out["seconds_per_sample"] > 0


def test_cli_icl_names_a_bad_setting(S, capsys):
    tm.cls_project(S)
    assert cli.main(["icl", "toycls", "--shots", "-2"]) == 1
    assert "shots must be an integer from 0 to 64, found -2" in capsys.readouterr().err
