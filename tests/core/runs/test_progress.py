"""Phase reporting of jobs: each phase's own fraction, the overall fraction through all phases,
ETA from them, and Cancel raised out of the progress hook."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.runs.progress import Cancelled, Progress
from core.runs.summary import eta_seconds, phase_eta_seconds
from db import projects as project_repo
from db import runs as run_repo
from db.models import utcnow


@pytest.fixture
def job(S):
    with S.begin() as s:
        project = project_repo.create_project(s, "p", "ner", ["PER"])
        run = run_repo.create_run(s, project, "evaluate", {"run_id": 1}, status="running")
        run_repo.mark_started(s, run.id, pid=None)
        return run.id


def state(S, run_id):
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        return run.phase, run.phase_progress, run.progress


def test_phases_move_the_overall_fraction_by_their_share(S, job, monkeypatch):
    monkeypatch.setattr("core.runs.progress.WRITE_SECONDS", 0.0)
    progress = Progress(S, job, {"loading": 1, "predicting": 8, "scoring": 1})
    progress.phase("loading")
    assert state(S, job) == ("loading", 0.0, 0.0)
    progress.phase("predicting")
    assert state(S, job) == ("predicting", 0.0, pytest.approx(0.1))
    progress(25, 100)
    assert state(S, job) == ("predicting", 0.25, pytest.approx(0.1 + 0.8 * 0.25))
    progress(100, 100)
    progress.phase("scoring", label="scoring 2 modes")
    assert state(S, job) == ("scoring 2 modes", 0.0, pytest.approx(0.9))
    progress.done()
    assert state(S, job) == (None, None, 1.0)


def test_writes_are_throttled_but_the_end_of_a_phase_is_always_written(S, job):
    progress = Progress(S, job, {"predicting": 1})
    progress.phase("predicting")
    progress(1, 100)  # right after the phase write: skipped
    assert state(S, job)[1] == 0.0
    progress(100, 100)
    assert state(S, job)[1] == 1.0


def test_a_cancel_request_raises_out_of_the_progress_hook(S, job, monkeypatch):
    monkeypatch.setattr("core.runs.progress.WRITE_SECONDS", 0.0)
    progress = Progress(S, job, {"predicting": 1})
    progress.phase("predicting")
    progress(1, 10)
    with S.begin() as s:
        run_repo.request_cancel(s, job)
    with pytest.raises(Cancelled, match="cancelled during predicting"):
        progress(2, 10)


def test_eta_of_the_run_and_of_its_phase():
    now = utcnow()
    row = {"status": "running", "progress": 0.25, "wall_seconds": 30.0,
           "phase": "evaluating 1/2", "phase_progress": 0.5, "phase_started_at": now - timedelta(seconds=10)}
    assert eta_seconds(row) == pytest.approx(90.0)
    assert phase_eta_seconds(row, now=now) == pytest.approx(10.0)
    assert phase_eta_seconds({**row, "phase_progress": 0.0}, now=now) is None
    assert phase_eta_seconds({**row, "status": "completed"}, now=now) is None
