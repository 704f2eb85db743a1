"""The background worker: takes queued runs from the database one at a time and runs each in
its own child process, so a crash or an out-of-memory kill never takes the UI or the worker down.

- ``ensure_worker()`` (the app calls it once per server, the Train page when it queues a run)
  starts ``python cli.py worker --parent-pid PID`` unless a worker already holds the lock file
  ``$TAGTUNE_HOME/worker.lock``. Only one worker per home runs; a second one exits at once.
- A child that raises is marked ``failed`` with its error; one that dies (SIGKILL, OOM) is marked
  ``failed`` by the worker with the signal. Children heartbeat every few seconds, so a run whose
  heartbeat stopped (its worker and child were killed) becomes ``interrupted`` when any worker
  next looks, including one that (re)starts.
- Child stdout/stderr go to ``runs/<id>/log.txt`` (Run.log_path).
"""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path

from core.base import settings
from core.runs.jobs import handler_for
from core.base.store import sessions
from db import runs as run_repo

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = "worker.lock"
WORKER_LOG = "worker.log"
POLL_SECONDS = 1.0
# A run whose heartbeat is older than this has lost its process (several missed beats).
STALE_AFTER = timedelta(seconds=float(os.environ.get("TAGTUNE_STALE_SECONDS") or 20))
HEARTBEAT_SECONDS = min(3.0, STALE_AFTER.total_seconds() / 5)
CHILD_NICENESS = 10  # run processes' scheduling niceness (0 = the app's; 19 = lowest)
CANCEL_GRACE_SECONDS = 20.0  # a child that ignores its cancel flag this long is killed

_lock_fd: int | None = None


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
    """Start the worker for this home unless one runs. Returns {"pid", "started", "log"}."""
    home = settings.home()
    log = home / WORKER_LOG
    pid = worker_pid(home)
    if pid is not None:
        return {"pid": pid, "started": False, "log": str(log)}
    env = {**os.environ, "TAGTUNE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(ROOT / "cli.py"), "worker", "--parent-pid", str(parent_pid or os.getpid())]
    with log.open("a") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    return {"pid": proc.pid, "started": True, "log": str(log)}


# ---- the loop --------------------------------------------------------------------------------

def serve(once: bool = False, parent_pid: int | None = None, poll: float = POLL_SECONDS) -> dict:
    """Run queued runs until stopped (``once``: until the queue is empty). Returns a summary."""
    global _lock_fd
    home = settings.home()
    _lock_fd = _try_lock(home)
    if _lock_fd is None:
        return {"status": "another worker already serves this home", "pid": worker_pid(home), "ran": []}
    os.ftruncate(_lock_fd, 0)
    os.write(_lock_fd, str(os.getpid()).encode())
    _prewarm()
    S = sessions()
    ran: list[dict] = []
    stop = _stop_flag()
    print(f"[worker {os.getpid()}] serving {settings.db_url()}", flush=True)
    while not stop.is_set():
        if parent_pid and not _alive(parent_pid):
            print(f"[worker] parent {parent_pid} is gone; stopping", flush=True)
            break
        with S.begin() as s:
            stale = run_repo.mark_interrupted(s, stale_after=STALE_AFTER)
        if stale:
            print(f"[worker] marked {stale} run(s) without a heartbeat as interrupted", flush=True)
        with S.begin() as s:
            run = run_repo.claim_next(s, pid=os.getpid())
            claimed = (run.id, run.kind) if run else None
        if claimed is None:
            if once:
                break
            stop.wait(poll)
            continue
        print(f"[worker] run {claimed[0]} ({claimed[1]}) started", flush=True)
        status = run_in_child(claimed[0], claimed[1])
        print(f"[worker] run {claimed[0]} ended: {status}", flush=True)
        ran.append({"run_id": claimed[0], "status": status})
    os.close(_lock_fd)
    _lock_fd = None
    return {"status": "stopped", "ran": ran}


def _prewarm() -> None:
    """Import the heavy libraries once so each forked child starts in well under a second."""
    import torch  # noqa: F401
    import transformers  # noqa: F401


def _stop_flag() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- one run in one child process -------------------------------------------------------------

def log_path_for(run_id: int) -> Path:
    folder = settings.runs_dir() / str(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "log.txt"


def run_in_child(run_id: int, kind: str) -> str:
    """Run one (already ``running``) run in a forked child; returns its final status.

    Whatever happens to the child, the run does not stay ``running``.
    """
    S = sessions()
    log = log_path_for(run_id)
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, log_path=str(log))
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(run_id, kind, str(log)), daemon=False)
    proc.start()
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, pid=proc.pid)
    cancel_seen: float | None = None
    while proc.is_alive():
        proc.join(timeout=0.5)
        with S.begin() as s:
            wants_cancel = run_repo.cancel_requested(s, run_id)
        if wants_cancel and cancel_seen is None:
            cancel_seen = time.monotonic()
        if cancel_seen is not None and proc.is_alive() and time.monotonic() - cancel_seen > CANCEL_GRACE_SECONDS:
            proc.kill()  # stuck outside the training loop (e.g. loading a model): stop it the hard way
            proc.join()
            with S.begin() as s:
                run_repo.finish(s, run_id, "cancelled", error="cancelled; the process did not stop in time and was killed")
    code = proc.exitcode
    with S.begin() as s:
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (the system may have run out of memory)" if -code == signal.SIGKILL else ""
            run_repo.finish(s, run_id, "failed", error=f"the run's process was killed by {name}{hint}; see {log}")
        elif code:
            run_repo.finish(s, run_id, "failed", error=f"the run's process exited with code {code}; see {log}")
        else:
            run_repo.finish(s, run_id, "failed", error=f"the {kind} handler returned without finishing the run")
        return run_repo.get_run(s, run_id).status


def _child(run_id: int, kind: str, log: str) -> None:
    # Background work yields the CPU to the app: a labeller save or a page must not wait behind
    # training threads that take every core (issue 14: the UI stays fast while a run trains).
    os.nice(CHILD_NICENESS)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    if _lock_fd is not None:
        os.close(_lock_fd)  # the lock belongs to the worker, not to its runs
    from db.engine import reset

    reset()  # never share the parent's database connections
    S = sessions()
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, pid=os.getpid())
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(S, run_id, stop), daemon=True).start()
    print(f"[tagtune] run {run_id} ({kind}) in process {os.getpid()}", flush=True)
    try:
        handler_for(kind)(run_id)
    except BaseException as exc:  # noqa: BLE001 - every failure must end the run
        traceback.print_exc()
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        with S.begin() as s:
            run_repo.finish(s, run_id, "failed", error=message)
        stop.set()
        sys.stdout.flush()
        os._exit(1)
    stop.set()
    sys.stdout.flush()
    os._exit(0)  # skip atexit handlers inherited from the parent


def _heartbeat(S, run_id: int, stop: threading.Event) -> None:
    """Keep heartbeat_at fresh while the process lives (model loading, long evaluations)."""
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with S.begin() as s:
                run_repo.heartbeat(s, run_id)
        except Exception as exc:  # noqa: BLE001 - a busy database must not kill the run
            print(f"[tagtune] heartbeat failed: {exc}", flush=True)


def run_foreground(run_id: int, kind: str = "finetune") -> str:
    """``cli.py train`` without --background: the same child-process path as the worker."""
    _prewarm()
    return run_in_child(run_id, kind)
