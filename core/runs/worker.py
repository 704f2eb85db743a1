"""The background worker: claims queued runs from the database, each lane on its own
(core/runs/jobs.py), and runs each in its own process (core/runs/launcher.py), so a crash or an
out-of-memory kill never takes the UI or the worker down.

- One worker per home: it holds the lock file ``$TAGTUNE_HOME/worker.lock``; a second exits at once.
- It registers a row in ``workers`` and beats it every second with what each lane runs, and
  beats the runs whose processes it knows alive. The app's supervisor (core/runs/supervisor.py)
  restarts a worker that died or hung; anyone who looks interrupts the runs of a silent worker.
- A run's process dies with the worker (parent-death signals through the launcher); a run whose
  process raised or died is marked ``failed`` with its error; a run left ``running`` by a dead
  worker becomes ``interrupted`` (at once when the app saw it die, else within the stale window).
- SIGTERM/SIGINT: stop claiming, interrupt the running runs, exit. The app that started the
  worker gone (``--parent-pid``, e.g. the server was killed): hand the lock over to the next
  worker at once, finish the runs in progress, claim nothing new, exit.
- Run output goes to ``runs/<id>/log.txt`` (Run.log_path), the worker's own to ``worker.log``.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import threading
from pathlib import Path

from core.base import settings
from core.base.store import sessions
from core.runs import jobs
from core.runs.health import interrupt_worker_runs, sweep
from core.runs.lanes import POLL_SECONDS, Board, LaneRunner, log_path_for, run_one
from core.runs.launcher import Launcher
from db import runs as run_repo
from db import workers as worker_repo
from db.models import Run

log = logging.getLogger("tagtune.worker")

LOCK_FILE = "worker.lock"
WORKER_LOG = "worker.log"
BEAT_SECONDS = 1.0

__all__ = ["ensure_worker", "log_path_for", "run_foreground", "serve", "worker_pid"]


# ---- one worker per home -----------------------------------------------------------------------

def _try_lock(home: Path) -> int | None:
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def worker_pid(home: Path | None = None) -> int | None:
    """PID of the worker serving this home, or None when none holds the lock."""
    home = home or settings.home()
    fd = _try_lock(home)
    if fd is not None:
        os.close(fd)  # we could take it, so nobody holds it
        return None
    try:
        return int((home / LOCK_FILE).read_text().strip() or 0) or None
    except (OSError, ValueError):
        return -1


def ensure_worker(parent_pid: int | None = None) -> dict:
    """Start the worker for this home unless one runs (the app's supervisor starts and watches
    it). Returns {"pid", "started", "log"}."""
    from core.runs.supervisor import supervisor

    return supervisor().ensure()


# ---- the worker process ------------------------------------------------------------------------

def serve(once: bool = False, parent_pid: int | None = None, poll: float = POLL_SECONDS) -> dict:
    """Run queued runs until stopped (``once``: until nothing is queued or running). Returns a summary."""
    _configure_logging()
    home = settings.home()
    lock_fd = _try_lock(home)
    if lock_fd is None:
        return {"status": "another worker already serves this home", "pid": worker_pid(home), "ran": []}
    os.ftruncate(lock_fd, 0)
    os.write(lock_fd, str(os.getpid()).encode())
    S = sessions()
    with S.begin() as s:
        worker_id = worker_repo.register(s, os.getpid(), socket.gethostname(), parent_pid).id
    follows_parent = parent_pid is not None and os.getppid() == parent_pid
    stop = _stop_flag()
    log.info("worker %s serving %s with lanes %s", worker_id, settings.db_url(),
             ", ".join(f"{name} ({', '.join(jobs.kinds_in(name))})" for name in jobs.LANES))
    launcher = _launcher()  # on this (main) thread: the launcher dies with the thread that started it
    board, draining = Board(), threading.Event()
    runners = [LaneRunner(lane, slot, launcher, board, worker_id, stop, draining, poll)
               for lane in jobs.LANES.values() for slot in range(lane.slots)]
    for runner in runners:
        runner.start()
    why: str | None = None
    try:
        while why is None and not stop.is_set():
            if not _beat(S, worker_id, board):
                why = "declared dead by another process (its heartbeat went stale)"
                break
            try:
                why = _tend(S, worker_id, runners, draining, once, parent_pid, follows_parent)
            except Exception:  # noqa: BLE001 - a busy database must not stop the worker
                log.exception("worker housekeeping failed; trying again")
            if why is not None:
                break
            if lock_fd is not None and draining.is_set():
                os.close(lock_fd)  # the next app's worker may start now
                lock_fd = None
            if not launcher.alive():
                log.warning("the run launcher died; starting a new one")
                launcher = _launcher()
                for runner in runners:
                    runner.launcher = launcher
            stop.wait(BEAT_SECONDS)
        if why is None:
            why = f"stopped by {getattr(stop, 'signal_name', 'a signal')}"
    finally:
        stop.set()
        why = why or "stopped by an error (see worker.log)"
        with S.begin() as s:
            interrupted = interrupt_worker_runs(
                s, worker_id, f"the worker was {why} while this run was running; start it again")
        launcher.close()
        for runner in runners:
            runner.join(timeout=10)
        with S.begin() as s:
            worker_repo.stop(s, worker_id, "stopped", why)
        if lock_fd is not None:
            os.close(lock_fd)
    log.info("worker %s %s", worker_id, why)
    return {"status": "stopped", "reason": why, "interrupted": interrupted,
            "ran": [r for runner in runners for r in runner.ran]}


def _tend(S, worker_id: int, runners: list[LaneRunner], draining: threading.Event, once: bool,
          parent_pid: int | None, follows_parent: bool) -> str | None:
    """One beat's housekeeping; returns why the worker should stop, or None."""
    sweep(S)
    if parent_pid and not draining.is_set() and not _parent_alive(parent_pid, follows_parent):
        log.info("the app (pid %s) is gone: finishing the runs in progress, claiming no more", parent_pid)
        draining.set()
    if draining.is_set() and not _busy(S, worker_id, runners):
        return "done: the app that started it is gone and its runs have ended"
    # queued first: a run claimed after this look is busy in the next one (see Board.claiming)
    if once and not _queued(S) and not _busy(S, worker_id, runners):
        return "done: the queue is empty (--once)"
    return None


def _launcher() -> Launcher:
    launcher = Launcher(preload=["torch", "transformers", *jobs.handler_modules()])
    launcher.start()
    return launcher


def _beat(S, worker_id: int, board: Board) -> bool:
    try:
        with S.begin() as s:
            alive = worker_repo.beat(s, worker_id, board.snapshot())
            run_repo.heartbeat_many(s, board.running())
    except Exception as exc:  # noqa: BLE001 - a busy database must not stop the worker
        log.warning("heartbeat failed: %s", exc)
        return True
    return alive


def _busy(S, worker_id: int, runners: list[LaneRunner]) -> bool:
    """A lane is running something, or about to: no claim is in flight while this looks."""
    with runners[0].board.claiming if runners else contextlib.nullcontext():
        if any(r.current is not None for r in runners):
            return True
    with S.begin() as s:
        return bool(run_repo.running_ids(s, worker_id))


def _queued(S) -> bool:
    from sqlalchemy import select

    with S.begin() as s:
        return s.scalar(select(Run.id).where(Run.status == "queued").limit(1)) is not None


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s [%(name)s %(process)d] %(message)s")
        logging.getLogger("tagtune").setLevel(logging.INFO)


def _stop_flag() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        def handler(signum, _frame):
            stop.signal_name = signal.Signals(signum).name
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, handler)
    return stop


def _parent_alive(pid: int, is_parent: bool) -> bool:
    """Is the app that started this worker still there? Once our parent died this process was
    handed to another one; a dead app that nobody reaped yet (a zombie) counts as gone."""
    if is_parent and os.getppid() != pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:  # no /proc: trust the parent id alone
        return True
    return state not in ("Z", "X")


# ---- the command line's foreground runs ---------------------------------------------------------

def run_foreground(run_id: int, kind: str = "finetune") -> str:
    """``cli.py train`` / ``icl`` without --background: the same run process as the worker's."""
    S = sessions()
    launcher = Launcher(preload=["torch", "transformers", jobs.job_for(kind).handler.partition(":")[0]])
    launcher.start()
    try:
        while not launcher.ready.wait(1.0):  # importing takes a while: keep the run from looking lost
            with S.begin() as s:
                run_repo.heartbeat(s, run_id)
        return run_one(S, launcher, run_id, kind)
    except KeyboardInterrupt:
        with S.begin() as s:
            run_repo.finish(s, run_id, "cancelled", error="cancelled from the command line (Ctrl-C)")
            return run_repo.get_run(s, run_id).status
    finally:
        launcher.close()
