"""The worker against a real file database: lanes, cancel, SIGKILL of a run's process or of the
worker, the app's supervisor restarting a dead worker, a worker whose app is gone."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from core.runs.worker import worker_pid
from db import runs as run_repo
from db import workers as worker_repo
from tests.tiny_models import make_tiny_model, seed_project
from tests.tiny_runs import trained_ner_run
from tests.worker_helpers import (
    ended, exported_model, is_zombie, kill_group, pid_alive, queue_training, run_state, start_worker, training,
    wait_for_run, wait_until,
)

pytestmark = pytest.mark.slow
STALE = {"TAGTUNE_STALE_SECONDS": "8", "TAGTUNE_WORKER_STALE_SECONDS": "4"}


@pytest.fixture
def tiny(S, home, tmp_path, monkeypatch) -> Path:
    for key, value in STALE.items():
        monkeypatch.setenv(key, value)
    seed_project(S, "p", "ner", n_train=40, n_dev=4)
    return make_tiny_model(tmp_path / "tiny")


def db_fds(pid: int, home: Path) -> list[str]:
    """Files of the database that process ``pid`` holds open."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(home / "tagtune.db")):
            out.append(target)
    return out


def launcher_pid(worker: int) -> int:
    children = Path(f"/proc/{worker}/task/{worker}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_lanes_cancel_kill_and_an_app_that_goes_away(S, home, tiny, tmp_path):
    app = subprocess.Popen(["sleep", "3600"])  # stands in for the server that started the worker
    worker = start_worker(home, "--parent-pid", str(app.pid), **STALE)
    try:
        # A cancel written to the database stops the run within seconds.
        first = queue_training(S, "p", tiny, max_steps=1_000_000)
        wait_for_run(S, first, training)
        with S.begin() as s:
            run_repo.request_cancel(s, first)
        asked = time.monotonic()
        run = wait_for_run(S, first, ended, timeout=30)
        assert run.status == "cancelled" and time.monotonic() - asked < 10
        assert run.checkpoint is None

        # Lanes: while a training run runs, a pre-annotation job queued after it starts and ends.
        second = queue_training(S, "p", tiny, max_steps=1_000_000)
        run = wait_for_run(S, second, training)
        assert run.pid and run.pid != worker.pid and run.worker_id is not None
        _, model_run = trained_ner_run(S, tmp_path)
        from core.labeling.preannotate import create

        with S.begin() as s:
            short = create(s, model_run)
        done = wait_for_run(S, short, ended)
        assert done.status == "completed", done.error
        assert run_state(S, second)[0].status == "running", "the short job waited for the training run"

        def lanes() -> dict:  # as of the worker's last beat (every second)
            with S.begin() as s:
                return worker_repo.find(s, worker.pid, os.uname().nodename).lanes

        wait_until(lambda: lanes()["batch"] == [] and lanes()["train"] == [second], 10, "the beat after the job")

        # The launcher that forks run processes never opened the database; the run's process
        # opened its own connections after it started.
        launcher = launcher_pid(worker.pid)
        assert db_fds(launcher, home) == []
        assert db_fds(run.pid, home), "the run's process writes through its own connections"

        # SIGKILL of the training process: the run ends failed, never stays running...
        os.kill(run.pid, signal.SIGKILL)
        run = wait_for_run(S, second, ended, timeout=30)
        assert run.status == "failed" and "SIGKILL" in run.error
        assert worker.poll() is None, "the worker survives its runs"

        # ...and when the app that started the worker goes away, the worker hands the lock over at
        # once, finishes the run in progress (with its metrics and model), and leaves.
        third = queue_training(S, "p", tiny, max_steps=40)
        wait_for_run(S, third, training)
        app.kill()
        app.wait()
        wait_until(lambda: worker_pid(home) is None, 15, "the lock handed over")
        run = wait_for_run(S, third, ended)
        assert run.status == "completed", run.error
        assert run.metrics and exported_model(home, third) and Path(run.checkpoint, "config.json").exists()
        assert worker.wait(60) == 0
        assert not pid_alive(launcher)
    finally:
        kill_group(worker)
        app.kill()


def test_a_run_dies_with_its_worker_and_is_interrupted_by_whoever_looks(S, home, tiny):
    worker = start_worker(home, **STALE)
    try:
        run_id = queue_training(S, "p", tiny, max_steps=150)
        run = wait_for_run(S, run_id, training)
        child = run.pid
        os.kill(worker.pid, signal.SIGKILL)  # the worker only: not its process group
        worker.wait()
        # Its launcher and the run's process die with it (parent-death signals)...
        wait_until(lambda: not pid_alive(child), 5, "the run's process dying with its worker")
        # ...and a page that looks marks the run interrupted once the stale window has passed.
        run = wait_for_run(S, run_id, lambda r, _: r.status != "running", timeout=60, sweep=True)
        assert run.status == "interrupted" and "start the run again" in run.error
        # Never a finished model with a lost status.
        assert not exported_model(home, run_id)
        with S.begin() as s:
            row = worker_repo.find(s, worker.pid, os.uname().nodename)
            assert row.status == "dead" and "no heartbeat" in row.note
    finally:
        kill_group(worker)


def test_the_supervisor_restarts_a_dead_worker_and_stops_it_with_the_app(S, home, tiny):
    from core.runs.supervisor import Supervisor

    watcher = Supervisor(home)
    try:
        started = watcher.ensure()
        assert started["started"] and watcher.ensure()["started"] is False
        first = started["pid"]
        run_id = queue_training(S, "p", tiny, max_steps=1_000_000)
        run = wait_for_run(S, run_id, training)
        os.kill(first, signal.SIGKILL)
        killed_at = time.monotonic()

        def looked() -> bool:
            watcher.check()  # what its thread does every second
            return run_state(S, run_id)[0].status != "running"

        # Seen at once: the run is interrupted by id (no stale window), the process reaped.
        wait_until(looked, 10, "the supervisor noticing the dead worker")
        assert time.monotonic() - killed_at < 5
        run = run_state(S, run_id)[0]
        assert run.status == "interrupted" and f"worker (pid {first}) was killed by SIGKILL" in run.error
        assert not is_zombie(first)
        wait_until(lambda: not pid_alive(run.pid), 5, "the run's process dying with its worker")
        status = watcher.status()
        assert status.pid not in (None, first) and status.restarts == 1
        assert any(f"pid {first}) was killed by SIGKILL; run #{run_id} interrupted" in e.text for e in status.events)
        with S.begin() as s:
            assert worker_repo.find(s, first, os.uname().nodename).status == "dead"

        # The new worker serves the queue; the Cancel of a lost run is not needed any more.
        second = queue_training(S, "p", tiny, max_steps=1_000_000)
        wait_for_run(S, second, training)
        replacement = watcher.status().pid
        watcher.shutdown()  # the server stops: SIGTERM to the worker
        run = run_state(S, second)[0]
        assert run.status == "interrupted" and "stopped by SIGTERM" in run.error
        wait_until(lambda: not pid_alive(replacement) and not pid_alive(run.pid), 5, "the worker and its run stopping")
        with S.begin() as s:
            assert worker_repo.find(s, replacement, os.uname().nodename).status == "stopped"
    finally:
        watcher.shutdown()


def test_one_worker_per_home(S, home, tiny):
    first = start_worker(home, **STALE)
    try:
        wait_until(lambda: worker_pid(home) == first.pid, 60, "the first worker taking the lock")
        second = start_worker(home, "--once", **STALE)
        assert second.wait(60) == 0  # finds the lock taken and leaves
        assert first.poll() is None
    finally:
        kill_group(first)
