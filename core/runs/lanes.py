"""The worker's lanes: one thread per lane slot claims the next queued run of the lane's kinds
(core/runs/jobs.py) and runs it in its own process; lanes run side by side, so a long training
run never holds up a short job."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError

from core.base import settings
from core.base.store import sessions
from core.runs.child import GPU_FRACTION_ENV
from core.runs.jobs import LANES, TRAIN, Lane, kinds_in
from core.runs.launcher import Launcher, LauncherGone
from db import runs as run_repo

log = logging.getLogger("tagtune.worker")

POLL_SECONDS = 1.0
CANCEL_GRACE_SECONDS = 20.0  # a process that ignores its cancel flag this long is killed
GUEST_FRACTION_ENV = "TAGTUNE_GUEST_GPU_FRACTION"
DEFAULT_GUEST_FRACTION = 0.2


class Board:
    """Which runs each lane is running now (shared by the lane threads and the worker's beat)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, set[int]] = {name: set() for name in LANES}
        # Held by a lane from its draining check through its claim until the run is on the board:
        # a run it claimed is ``running`` in the database a moment before it is anyone's
        # ``current``, and a worker that looked in that moment saw nothing queued and nothing
        # busy, stopped (--once, or its app gone) and interrupted the run it had just claimed.
        self.claiming = threading.Lock()

    def add(self, lane: str, run_id: int) -> None:
        with self._lock:
            self._runs[lane].add(run_id)

    def remove(self, lane: str, run_id: int) -> None:
        with self._lock:
            self._runs[lane].discard(run_id)

    def snapshot(self) -> dict[str, list[int]]:
        with self._lock:
            return {lane: sorted(ids) for lane, ids in self._runs.items()}

    def running(self) -> list[int]:
        return sorted(i for ids in self.snapshot().values() for i in ids)

    def busy(self, lane: str) -> bool:
        with self._lock:
            return bool(self._runs[lane])


def guest_fraction() -> float:
    value = float(os.environ.get(GUEST_FRACTION_ENV) or DEFAULT_GUEST_FRACTION)
    if not 0 < value <= 1:
        raise ValueError(f"{GUEST_FRACTION_ENV}={value}: expected a share of GPU memory in (0, 1]")
    return value


def device_env(lane: Lane, train_busy: bool) -> dict[str, str]:
    """Environment for a run process of ``lane`` so guests never starve training of GPU memory:
    on the CPU while a training run holds the GPU, else capped at ``guest_fraction()`` of it.
    (Harmless on a machine without a GPU.)"""
    if lane.owns_gpu:
        return {}
    if train_busy:
        return {"CUDA_VISIBLE_DEVICES": ""}
    return {GPU_FRACTION_ENV: str(guest_fraction())}


class LaneRunner(threading.Thread):
    """One slot of one lane."""

    def __init__(self, lane: Lane, slot: int, launcher: Launcher, board: Board, worker_id: int,
                 stop: threading.Event, draining: threading.Event, poll: float = POLL_SECONDS):
        super().__init__(name=f"lane-{lane.name}-{slot}", daemon=True)
        self.lane, self.launcher, self.board, self.worker_id = lane, launcher, board, worker_id
        self.stop, self.draining, self.poll = stop, draining, poll
        self.kinds = kinds_in(lane.name)
        self.ran: list[dict] = []
        self.current: int | None = None

    def run(self) -> None:
        S = sessions()
        while not self.stop.is_set():
            with self.board.claiming:
                if self.draining.is_set():
                    break
                claimed = self._claim(S)
                if claimed is not None:
                    self.current = claimed[0]
                    self.board.add(self.lane.name, claimed[0])
            if claimed is None:
                self.stop.wait(self.poll)
                continue
            run_id, kind = claimed
            log.info("run %s (%s) started in lane %s", run_id, kind, self.lane.name)
            try:
                env = device_env(self.lane, self.lane.name != TRAIN and self.board.busy(TRAIN))
                status = run_one(S, self.launcher, run_id, kind, env)
            except LauncherGone as exc:
                with S.begin() as s:
                    run_repo.requeue(s, run_id)
                log.warning("run %s went back to the queue: %s", run_id, exc)
                status = "queued"
                self.stop.wait(self.poll)
            finally:
                self.board.remove(self.lane.name, run_id)
                self.current = None
            log.info("run %s ended: %s", run_id, status)
            self.ran.append({"run_id": run_id, "status": status})

    def _claim(self, S) -> tuple[int, str] | None:
        try:
            with S.begin() as s:
                run = run_repo.claim_next(s, pid=os.getpid(), kinds=self.kinds, slots=self.lane.slots,
                                          worker_id=self.worker_id)
                return (run.id, run.kind) if run else None
        except OperationalError as exc:  # a database busy beyond its timeout: try again
            log.warning("lane %s could not claim a run: %s", self.lane.name, exc)
            return None


def log_path_for(run_id: int) -> Path:
    folder = settings.runs_dir() / str(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "log.txt"


def run_one(S, launcher: Launcher, run_id: int, kind: str, env: dict[str, str] | None = None) -> str:
    """Run one (already ``running``) run in its own process; returns its final status.

    Whatever happens to the process, the run does not stay ``running``: a handler that raised
    marked it failed itself; a process that died (SIGKILL, out of memory) is marked failed here.
    """
    log_file = log_path_for(run_id)
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, log_path=str(log_file))
    child = launcher.launch(run_id, kind, str(log_file), env)
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, pid=child.pid)
    cancel_seen: float | None = None
    while child.wait(0.5) is None:
        if cancel_seen is None:
            with S.begin() as s:
                cancel_seen = time.monotonic() if run_repo.cancel_requested(s, run_id) else None
        elif time.monotonic() - cancel_seen > CANCEL_GRACE_SECONDS:
            # Stuck outside its cancel checks (e.g. loading a model): stop it the hard way.
            with S.begin() as s:
                run_repo.finish(s, run_id, "cancelled", error="cancelled; the process did not stop in time and was killed")
            child.kill()
            child.wait()
    with S.begin() as s:
        run_repo.finish(s, run_id, "failed", error=exit_reason(child.code, kind, log_file))
        return run_repo.get_run(s, run_id).status


def exit_reason(code: int | None, kind: str, log_file: Path) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (the system may have run out of memory)" if -code == signal.SIGKILL else ""
        return f"the run's process was killed by {name}{hint}; see {log_file}"
    if code:
        return f"the run's process exited with code {code}; see {log_file}"
    return f"the {kind} handler returned without finishing the run"
