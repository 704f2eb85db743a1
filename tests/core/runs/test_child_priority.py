"""Run processes yield the CPU to the app: a labeller save must not wait behind training threads."""
from __future__ import annotations

import os

from core.runs import worker
from db import projects as project_repo
from db import runs as run_repo


def record_niceness(run_id: int) -> None:
    """A run handler (in the forked child) that stores its own niceness as the run's metrics."""
    from core.base.store import sessions

    with sessions().begin() as s:
        run_repo.finish(s, run_id, "completed", metrics={"niceness": os.nice(0)})


def test_a_run_process_runs_at_a_lower_priority_than_the_app(S, monkeypatch):
    monkeypatch.setattr(worker, "handler_for", lambda kind: record_niceness)  # the fork inherits it
    with S.begin() as s:
        project = project_repo.create_project(s, "p", "ner", ["PER"])
        run_id = run_repo.create_run(s, project, "finetune", {}, status="running").id
    assert worker.run_in_child(run_id, "finetune") == "completed"
    with S.begin() as s:
        niceness = run_repo.get_run(s, run_id).metrics["niceness"]
    assert niceness == min(19, os.nice(0) + worker.CHILD_NICENESS) and niceness > os.nice(0)
