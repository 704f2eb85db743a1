"""Run processes yield the CPU to the app: a labeller save must not wait behind training threads."""
from __future__ import annotations

import os

from core.runs import child, worker
from db import projects as project_repo
from db import runs as run_repo


def test_a_run_process_runs_at_a_lower_priority_than_the_app(S):
    with S.begin() as s:
        project = project_repo.create_project(s, "p", "ner", ["PER"])
        # No samples: the handler fails at once, after the run's process has started.
        run_id = run_repo.create_run(s, project, "evaluate", {}, status="running").id
    assert worker.run_foreground(run_id, "evaluate") == "failed"
    expected = min(19, os.nice(0) + child.CHILD_NICENESS)
    assert expected > os.nice(0)
    log = worker.log_path_for(run_id).read_text()
    assert f"at niceness {expected}" in log, log
