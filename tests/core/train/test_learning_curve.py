"""Learning curve through the worker handler: one dev point per subset size, nested subsets."""
from __future__ import annotations

import pytest

from core.train import learning_curve
from core.runs.jobs import handler_for
from db import projects as project_repo
from db import runs as run_repo
from tests import tiny_runs as tm


def test_subset_sizes_are_increasing_and_bounded():
    assert learning_curve.subset_sizes(40, learning_curve.FRACTIONS) == [4, 10, 20, 40]
    assert learning_curve.subset_sizes(3, learning_curve.FRACTIONS) == [1, 2, 3]


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match=r"fractions must increase without repeats, found \[0.5, 0.25\]"):
        learning_curve.LearningCurveConfig(1, "p", (0.5, 0.25))


@pytest.mark.slow
def test_learning_curve_records_dev_metric_per_subset(S, tmp_path):
    pid = tm.ner_project(S)
    model = tm.trained_model("ner", 0, tmp_path / "base")
    config = {"model": str(model), "epochs": 1.0, "batch_size": 8, "learning_rate": 1e-3, "max_length": 32,
              "log_every": 1}
    with S.begin() as s:
        base = run_repo.create_run(s, project_repo.get_project_by_id(s, pid), "finetune", config, status="running")
        run_repo.finish(s, base.id, "completed", metrics={})
        curve_id = learning_curve.create(s, base.id, fractions=(0.25, 0.5, 1.0), status="running")
    handler_for("learning_curve")(curve_id)
    with S.begin() as s:
        run = run_repo.get_run(s, curve_id)
        assert run.status == "completed", run.error
        curve = learning_curve.latest_curve(s, project_repo.get_project_by_id(s, pid))
    assert curve["metric"] == "f1"
    assert [p["labels"] for p in curve["points"]] == [2, 4, 8]  # 8 labelled train samples
    assert all(0.0 <= p["value"] <= 1.0 for p in curve["points"])
    assert run.metrics["points"] == [[p["labels"], p["value"]] for p in curve["points"]]
