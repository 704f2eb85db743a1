"""The worker against a real file database: cancel, SIGKILL of a run's process, restarts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.train.config import TrainConfig
from core.train.launch import create_finetune_run
from db import runs as run_repo
from tests.tiny_models import make_tiny_model, seed_project

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def start_worker(home: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TAGTUNE_HOME": str(home), "TAGTUNE_STALE_SECONDS": "8", "PYTHONUNBUFFERED": "1"}
    env.pop("TAGTUNE_DB_URL", None)
    log = (home / "worker-test.log").open("a")
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker", *extra], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def queue(S, tiny: Path, max_steps: int) -> int:
    config = TrainConfig(model=str(tiny), max_steps=max_steps, batch_size=4, log_every=1, eval_steps=10_000)
    with S.begin() as s:
        return create_finetune_run(s, "p", config).id


def wait_for(S, run_id: int, check, timeout: float = 90.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with S.begin() as s:
            run = run_repo.get_run(s, run_id)
            n_points = len(run_repo.points(s, [run_id]))
            if check(run, n_points):
                return run
        time.sleep(0.2)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
    log = Path(run.log_path).read_text()[-3000:] if run.log_path and Path(run.log_path).exists() else ""
    raise AssertionError(f"run {run_id} is {run.status} ({run.error}) after {timeout} s\n{log}")


def training(run, n_points):
    return run.status == "running" and n_points > 0


@pytest.fixture
def project(S, home, tmp_path):
    seed_project(S, "p", "ner", n_train=40, n_dev=4)
    return make_tiny_model(tmp_path / "tiny")


def test_cancel_kill_and_the_next_run(S, home, project):
    worker = start_worker(home)
    try:
        # A cancel written to the database stops the run within seconds.
        first = queue(S, project, max_steps=1_000_000)
        wait_for(S, first, training)
        with S.begin() as s:
            run_repo.request_cancel(s, first)
        asked = time.time()
        run = wait_for(S, first, lambda r, _: r.status != "running", timeout=30)
        assert run.status == "cancelled" and time.time() - asked < 10
        assert run.checkpoint is None

        # SIGKILL of the training process: the run ends failed, never stays running.
        second = queue(S, project, max_steps=1_000_000)
        run = wait_for(S, second, training)
        assert run.pid and run.pid != worker.pid
        os.kill(run.pid, signal.SIGKILL)
        run = wait_for(S, second, lambda r, _: r.status != "running", timeout=30)
        assert run.status in ("failed", "interrupted")
        assert "SIGKILL" in run.error

        # ...and the next run starts normally and completes with an export.
        third = queue(S, project, max_steps=3)
        run = wait_for(S, third, lambda r, _: r.status in run_repo.FINISHED)
        assert run.status == "completed", run.error
        assert Path(run.checkpoint, "config.json").exists() and Path(run.log_path).exists()
        assert worker.poll() is None, "the worker survives its runs"
    finally:
        stop(worker)


def test_runs_left_running_by_a_dead_worker_become_interrupted(S, home, project):
    worker = start_worker(home)
    try:
        run_id = queue(S, project, max_steps=1_000_000)
        wait_for(S, run_id, training)
    finally:
        stop(worker)  # worker and its training child die together
    with S.begin() as s:
        assert run_repo.get_run(s, run_id).status == "running"
    worker = start_worker(home)
    try:
        run = wait_for(S, run_id, lambda r, _: r.status != "running", timeout=60)
        assert run.status == "interrupted" and "start it again" in run.error
    finally:
        stop(worker)


def test_one_worker_per_home(S, home):
    from core.runs.worker import ensure_worker, worker_pid

    first = start_worker(home)
    try:
        deadline = time.time() + 60
        while worker_pid(home) is None and time.time() < deadline:
            time.sleep(0.2)
        assert worker_pid(home) == first.pid
        assert ensure_worker()["started"] is False
        second = start_worker(home, "--once")
        assert second.wait(60) == 0  # finds the lock taken and leaves
        assert first.poll() is None
    finally:
        stop(first)
