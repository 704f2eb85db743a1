"""Whoever looks: silent workers and stale runs are marked, but never a run or worker whose
process is alive on this machine (a long SQLite write transaction blocks every heartbeat)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.runs.health import RUN_PROCESS, WORKER_PROCESS, process_alive, sweep, this_host, worker_health
from db import projects as project_repo
from db import runs as run_repo
from db import workers as worker_repo
from db.models import Run, Worker, utcnow
from tests.worker_helpers import wait_until


def sleeper(marker: str) -> subprocess.Popen:
    """A process whose command line carries ``marker``, as a run's or a worker's does."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])


@pytest.fixture
def stale(S, monkeypatch):
    monkeypatch.setenv("TAGTUNE_STALE_SECONDS", "5")
    monkeypatch.setenv("TAGTUNE_WORKER_STALE_SECONDS", "5")
    with S.begin() as s:
        project = project_repo.create_project(s, "p", "ner", ["PER"])
        worker = worker_repo.register(s, pid=os.getpid(), host=this_host()).id
        run = run_repo.create_run(s, project, "finetune", {}).id
    with S.begin() as s:
        run_repo.claim_next(s, worker_id=worker)
        old = utcnow() - timedelta(seconds=60)
        s.execute(update(Run).values(heartbeat_at=old))
        s.execute(update(Worker).values(beat_at=old))
    return worker, run


def set_pids(S, worker_pid: int, run_pid: int) -> None:
    with S.begin() as s:
        s.execute(update(Worker).values(pid=worker_pid))
        s.execute(update(Run).values(pid=run_pid))


def status(S, run_id: int) -> tuple[str, str]:
    with S.begin() as s:
        return run_repo.get_run(s, run_id).status, worker_repo.latest(s).status


def test_a_silent_worker_and_stale_run_whose_processes_live_here_are_left_alone(S, stale):
    worker, run = stale
    procs = [sleeper(WORKER_PROCESS), sleeper(RUN_PROCESS)]
    try:
        set_pids(S, procs[0].pid, procs[1].pid)
        assert sweep(S) == {"dead_workers": [], "interrupted": []}
        assert status(S, run) == ("running", "running")
        # A stopped process counts as gone (SIGSTOP, frozen): it beats no more.
        os.kill(procs[1].pid, signal.SIGSTOP)
        wait_until(lambda: not process_alive(procs[1].pid, RUN_PROCESS), 10, "the run process stopping")
        assert sweep(S)["interrupted"] == [run]
        assert status(S, run) == ("interrupted", "running")
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_when_their_processes_are_gone_the_worker_is_dead_and_its_runs_interrupted(S, stale):
    worker, run = stale
    gone = sleeper(WORKER_PROCESS)
    gone.kill()
    gone.wait()
    set_pids(S, gone.pid, gone.pid)
    done = sweep(S)
    assert done == {"dead_workers": [worker], "interrupted": [run]}
    with S.begin() as s:
        row = run_repo.get_run(s, run)
        assert row.status == "interrupted" and f"worker (pid {gone.pid}) went away" in row.error
    assert worker_health(S).status == "dead"


def test_a_process_must_carry_the_roles_mark():
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not process_alive(other.pid, RUN_PROCESS)  # a reused pid is not our run
        assert process_alive(os.getpid(), "python") and not process_alive(None, "python")
    finally:
        other.kill()
        other.wait()
