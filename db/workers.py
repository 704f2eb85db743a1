"""Repository functions for worker heartbeats. Session first; never commit.

A worker registers a row when it starts, beats it every second with what each lane runs, and
marks it ``stopped`` when it exits cleanly. Whoever finds a ``running`` row whose beat is old
(the app's supervisor, a page, another worker) marks it ``dead`` and interrupts its runs.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Worker, utcnow


def register(session: Session, pid: int, host: str, parent_pid: int | None = None) -> Worker:
    worker = Worker(pid=pid, host=host, parent_pid=parent_pid, status="running", lanes={})
    session.add(worker)
    session.flush()
    return worker


def beat(session: Session, worker_id: int, lanes: dict[str, list[int]]) -> bool:
    """Refresh the heartbeat; False when someone already declared this worker dead or stopped."""
    return bool(session.execute(
        update(Worker).where(Worker.id == worker_id, Worker.status == "running").values(beat_at=utcnow(), lanes=lanes)
    ).rowcount)


def stop(session: Session, worker_id: int, status: str, note: str, silent_for: timedelta | None = None) -> bool:
    """End a worker's row (``stopped`` by itself, ``dead`` when found gone). Only a running row
    changes, so the first word on how a worker ended stays; with ``silent_for``, only if it has
    not beaten for that long (a worker that beat meanwhile is alive after all)."""
    if status not in ("stopped", "dead"):
        raise ValueError(f"a worker ends 'stopped' or 'dead', got {status!r}")
    query = update(Worker).where(Worker.id == worker_id, Worker.status == "running")
    if silent_for is not None:
        query = query.where(Worker.beat_at < utcnow() - silent_for)
    return bool(session.execute(query.values(status=status, stopped_at=utcnow(), note=note, lanes={})).rowcount)


def get(session: Session, worker_id: int) -> Worker | None:
    return session.get(Worker, worker_id)


def find(session: Session, pid: int, host: str) -> Worker | None:
    """The newest row of the worker process ``pid`` on ``host``."""
    return session.scalar(
        select(Worker).where(Worker.pid == pid, Worker.host == host).order_by(Worker.id.desc()).limit(1)
    )


def latest(session: Session) -> Worker | None:
    return session.scalar(select(Worker).order_by(Worker.id.desc()).limit(1))


def running(session: Session) -> list[Worker]:
    return list(session.scalars(select(Worker).where(Worker.status == "running").order_by(Worker.id)))


def silent(session: Session, stale_after: timedelta) -> list[Worker]:
    """Running rows whose worker has not beaten for ``stale_after``: their process is gone or hung."""
    cutoff = utcnow() - stale_after
    return list(session.scalars(
        select(Worker).where(Worker.status == "running", Worker.beat_at < cutoff).order_by(Worker.id)
    ))
