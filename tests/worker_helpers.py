"""Helpers for tests that drive real worker processes: start and stop them, queue tiny runs, and
wait on database state (never on fixed sleeps)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Imports of the training stack on a loaded 2-core machine: generous, since each wait ends as
# soon as the database says so.
PATIENCE = 240.0


def worker_env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TAGTUNE_HOME": str(home), "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TAGTUNE_NO_DEMO": "1", **extra}
    env.pop("TAGTUNE_DB_URL", None)
    return env


def start_worker(home: Path, *args: str, **env: str) -> subprocess.Popen:
    """``cli.py worker`` in its own process group (so a test can kill the whole tree)."""
    log = (home / "worker-test.log").open("a")
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker", *args], cwd=ROOT,
                            env=worker_env(home, **env), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(30)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, timeout: float = PATIENCE, what: str = "condition", every: float = 0.1):
    """Poll ``condition()`` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def run_state(S, run_id: int) -> tuple:
    """(run row, number of metric points) read in one transaction."""
    from db import runs as run_repo

    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        return run, len(run_repo.points(s, [run_id]))


def wait_for_run(S, run_id: int, check, timeout: float = PATIENCE, sweep: bool = False):
    """Wait until ``check(run, n_points)``; with ``sweep``, look like a page does meanwhile
    (interrupting what lost its process). Returns the run; on timeout the message has its log."""
    from core.runs.health import sweep as do_sweep

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sweep:
            do_sweep(S)
        run, n_points = run_state(S, run_id)
        if check(run, n_points):
            return run
        time.sleep(0.1)
    run, _ = run_state(S, run_id)
    log = Path(run.log_path).read_text()[-3000:] if run.log_path and Path(run.log_path).exists() else ""
    raise AssertionError(f"run {run_id} is {run.status} ({run.error}) after {timeout:.0f} s\n{log}")


def training(run, n_points: int) -> bool:
    return run.status == "running" and n_points > 0


def ended(run, _n_points: int) -> bool:
    from db.runs import FINISHED

    return run.status in FINISHED


def queue_training(S, project: str, model: Path, max_steps: int, **overrides) -> int:
    from core.train.config import TrainConfig
    from core.train.launch import create_finetune_run

    config = TrainConfig(model=str(model), max_steps=max_steps, batch_size=4, log_every=1, eval_steps=10_000,
                         **overrides)
    with S.begin() as s:
        return create_finetune_run(s, project, config).id


def exported_model(home: Path, run_id: int) -> bool:
    """Did the run's process finish its export (the trainer writes tagtune.json last)?"""
    return (home / "runs" / str(run_id) / "model" / "tagtune.json").exists()
