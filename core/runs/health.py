"""Whoever looks keeps the run table honest: workers that stopped beating are declared dead and
their runs interrupted; runs whose heartbeat went stale are interrupted. The worker does this
every second, the app's supervisor too, and so does every page that shows runs.

Reads first and writes only when there is something to mark, so looking costs no write lock.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from db import runs as run_repo
from db import workers as worker_repo
from db.models import utcnow

log = logging.getLogger("tagtune.health")

DEFAULT_WORKER_STALE_SECONDS = 10.0
# What a live process of each role has on its command line (run processes are forks of the launcher).
RUN_PROCESS = "core.runs.launcher"
WORKER_PROCESS = "cli.py worker"


def worker_stale_window() -> timedelta:
    """A worker that has not beaten (every second) for this long is gone or hung
    (``TAGTUNE_WORKER_STALE_SECONDS``, default 10 s)."""
    return timedelta(seconds=float(os.environ.get("TAGTUNE_WORKER_STALE_SECONDS") or DEFAULT_WORKER_STALE_SECONDS))


def process_alive(pid: int | None, marker: str) -> bool:
    """Is ``pid`` a live (running or sleeping, not stopped or zombie) process of this host whose
    command line contains ``marker``?

    Why lookers ask the kernel as well as the heartbeat: on SQLite one long write transaction (a
    100,000-sample import) blocks every heartbeat; a run whose process is alive on this machine
    is not lost, however old its last beat. (On PostgreSQL heartbeats never wait for other
    writes, and a worker on another host is judged by its beats alone.)
    """
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X", "T", "t") and marker in cmdline


def this_host() -> str:
    return socket.gethostname()


def interrupt_worker_runs(session: Session, worker_id: int, reason: str) -> list[int]:
    """Interrupt the runs a (dead) worker had claimed; returns their ids."""
    ids = run_repo.running_ids(session, worker_id)
    if ids:
        run_repo.mark_interrupted(session, run_ids=ids, reason=reason)
    return ids


def sweep(S: sessionmaker[Session]) -> dict:
    """Declare silent workers dead, interrupt their runs and every stale run. Returns what it did."""
    done: dict = {"dead_workers": [], "interrupted": []}
    window, host = worker_stale_window(), this_host()
    with S.begin() as s:
        silent = [(w.id, w.pid) for w in worker_repo.silent(s, window)
                  if not (w.host == host and process_alive(w.pid, WORKER_PROCESS))]
        stale = [run_id for run_id, pid, run_host in run_repo.stale_runs(s, run_repo.stale_window())
                 if not (run_host in (None, host) and process_alive(pid, RUN_PROCESS))]
    for worker_id, pid in silent:
        with S.begin() as s:
            note = f"no heartbeat for {window.total_seconds():.0f} s and no such process: the worker (pid {pid}) is gone"
            if worker_repo.stop(s, worker_id, "dead", note, silent_for=window):
                reason = f"the worker (pid {pid}) went away while this run was running; start the run again"
                done["interrupted"] += interrupt_worker_runs(s, worker_id, reason)
                done["dead_workers"].append(worker_id)
    if stale:
        with S.begin() as s:
            # Both conditions: a run that beat again since the read is alive after all.
            n = run_repo.mark_interrupted(s, stale_after=run_repo.stale_window(), run_ids=stale)
        if n:
            done["interrupted"] += stale
    if done["dead_workers"] or done["interrupted"]:
        log.info("marked workers %s dead and runs %s interrupted", done["dead_workers"], done["interrupted"])
    return done


@dataclass(frozen=True)
class WorkerHealth:
    """The newest worker row as a page shows it."""

    worker_id: int | None
    pid: int | None
    status: str  # "running" | "silent" | "stopped" | "dead" | "none"
    beat_age: float | None  # seconds since its last beat
    lanes: dict
    note: str | None


def worker_health(S: sessionmaker[Session]) -> WorkerHealth:
    with S.begin() as s:
        running = worker_repo.running(s)
        row = running[-1] if running else worker_repo.latest(s)
        if row is None:
            return WorkerHealth(None, None, "none", None, {}, None)
        age = (utcnow() - row.beat_at).total_seconds()
        status = row.status
        if status == "running" and age > worker_stale_window().total_seconds():
            status = "silent"
        return WorkerHealth(row.id, row.pid, status, age, dict(row.lanes or {}), row.note)
