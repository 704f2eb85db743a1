"""Repository functions for runs, metric points and predictions. Session first; never commit.

The worker and the UI talk only through these rows: the UI queues runs and sets
``cancel_requested``; the worker claims runs, writes MetricPoints and the final status.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased, defer

from db.errors import NotFound
from db.models import MetricPoint, Prediction, Project, Run, Worker, utcnow

ACTIVE = ("queued", "running")
FINISHED = ("completed", "failed", "cancelled", "interrupted")
DEFAULT_STALE_SECONDS = 20.0


def create_run(
    session: Session,
    project: Project,
    kind: str,
    config: dict,
    status: str = "queued",
    name: str = "",
    parent_run_id: int | None = None,
) -> Run:
    run = Run(project_id=project.id, kind=kind, config=config, status=status, name=name, parent_run_id=parent_run_id)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int, *, metrics: bool = True) -> Run:
    """The run. ``metrics=False`` leaves ``Run.metrics`` unread until it is used inside the session:
    it holds the cached evaluations (megabytes of JSON on a large split, 20-70 ms to parse), which
    a page that only needs the run's kind, status or checkpoint should not pay for."""
    run = session.get(Run, run_id, options=[] if metrics else [defer(Run.metrics)])
    if run is None:
        raise NotFound(f"no run with id {run_id}; list runs with `cli.py runs PROJECT`")
    return run


def list_runs(session: Session, project: Project | None = None, kinds: Iterable[str] | None = None, *,
              metrics: bool = True) -> list[Run]:
    """Runs, newest first; ``metrics=False`` as in ``get_run``."""
    query = select(Run).order_by(Run.id.desc())
    if not metrics:
        query = query.options(defer(Run.metrics))
    if project is not None:
        query = query.where(Run.project_id == project.id)
    if kinds is not None:
        query = query.where(Run.kind.in_(list(kinds)))
    return list(session.scalars(query))


def claim_next(
    session: Session,
    pid: int | None = None,
    kinds: Iterable[str] | None = None,
    slots: int | None = None,
    worker_id: int | None = None,
) -> Run | None:
    """Atomically move the oldest queued run (of ``kinds``) to running; None when there is none,
    or when ``slots`` runs of those kinds are already running (a lane is full).

    One conditional UPDATE both picks and takes the run, so two claimers (threads, processes,
    workers) never get the same one: on SQLite the statement takes the write lock before it reads
    (no read-then-upgrade that fails with "database is locked"); on PostgreSQL the loser of a race
    for one row sees ``status`` changed, updates nothing, and tries the next row.
    """
    kinds = None if kinds is None else list(kinds)
    queued_run, running_run = aliased(Run), aliased(Run)  # subqueries read the table the UPDATE writes
    queued = select(queued_run.id).where(queued_run.status == "queued")
    running = select(func.count(running_run.id)).where(running_run.status == "running")
    if kinds is not None:
        queued = queued.where(queued_run.kind.in_(kinds))
        running = running.where(running_run.kind.in_(kinds))
    conditions = [Run.id == queued.order_by(queued_run.id).limit(1).scalar_subquery(), Run.status == "queued"]
    if slots is not None:
        # A lane's slots hold across workers too (an old one finishing its runs after an app restart).
        conditions.append(running.scalar_subquery() < slots)
    if kinds == [] or session.scalar(queued.limit(1)) is None:
        return None  # a plain read first: an idle worker polling its lanes takes no write lock
    for _ in range(100):
        now = utcnow()
        run_id = session.scalar(
            update(Run)
            .where(*conditions)
            .values(status="running", started_at=now, heartbeat_at=now, pid=pid, worker_id=worker_id)
            .returning(Run.id)
        )
        if run_id is not None:
            session.expire_all()
            return session.get(Run, run_id)
        if session.scalar(queued.limit(1)) is None:
            return None
        if slots is not None and session.scalar(running) >= slots:
            return None
    return None


def requeue(session: Session, run_id: int) -> bool:
    """Put a claimed run whose process never started back in the queue."""
    return bool(session.execute(
        update(Run).where(Run.id == run_id, Run.status == "running")
        .values(status="queued", started_at=None, heartbeat_at=None, pid=None, worker_id=None)
    ).rowcount)


def mark_started(session: Session, run_id: int, pid: int | None, device: str | None = None) -> None:
    now = utcnow()
    session.execute(
        update(Run).where(Run.id == run_id).values(status="running", started_at=now, heartbeat_at=now, pid=pid, device=device)
    )


def heartbeat(session: Session, run_id: int, **values) -> bool:
    """Refresh a run's heartbeat (and set ``values``). False when the run is no longer running:
    someone marked it interrupted or cancelled it, and its process should stop."""
    done = session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow(), **values)).rowcount
    return bool(done) and session.scalar(select(Run.status).where(Run.id == run_id)) in ACTIVE


def heartbeat_many(session: Session, run_ids: Iterable[int]) -> None:
    """The worker's beat for the runs whose processes it knows to be alive."""
    ids = list(run_ids)
    if ids:
        session.execute(update(Run).where(Run.id.in_(ids), Run.status == "running").values(heartbeat_at=utcnow()))


def request_cancel(session: Session, run_id: int, stale_after: timedelta | None = None) -> Run:
    """Cancel a run: a queued one at once; a running one through its cancel flag, which its
    process honours; a running one whose process is gone (no heartbeat for ``stale_after``,
    default ``stale_window()``) at once, since nobody is left to honour the flag."""
    run = get_run(session, run_id)
    if run.status == "running" and _is_stale(run, stale_after or stale_window()):
        run.status = "cancelled"
        run.finished_at = utcnow()
        run.error = f"cancelled; its process had stopped (no heartbeat since {run.heartbeat_at:%H:%M:%S} UTC)"
    if run.status == "queued":
        run.status = "cancelled"
        run.finished_at = utcnow()
    if run.status in ACTIVE or run.status == "cancelled":
        run.cancel_requested = True
    session.flush()
    return run


def _is_stale(run: Run, stale_after: timedelta) -> bool:
    return run.heartbeat_at is None or run.heartbeat_at < utcnow() - stale_after


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def finish(
    session: Session,
    run_id: int,
    status: str,
    metrics: dict | None = None,
    error: str | None = None,
    checkpoint: str | None = None,
) -> bool:
    """Give a run its final status. Never overwrites a final status (a cancelled queued run stays
    cancelled, a completed run stays completed): returns False when the run had already ended."""
    if status not in FINISHED:
        raise ValueError(f"finish() got status {status!r}: expected one of {', '.join(FINISHED)}")
    values: dict = {"status": status, "finished_at": utcnow(), "error": error}
    if metrics is not None:
        values["metrics"] = metrics
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    return bool(session.execute(update(Run).where(Run.id == run_id, Run.status.in_(ACTIVE)).values(**values)).rowcount)


def stale_window() -> timedelta:
    """How long a running run may go without a heartbeat before it counts as lost
    (``TAGTUNE_STALE_SECONDS``, default 20 s: several missed beats of its process and worker)."""
    return timedelta(seconds=float(os.environ.get("TAGTUNE_STALE_SECONDS") or DEFAULT_STALE_SECONDS))


INTERRUPTED = "the worker stopped while this run was running (restart or crash); start it again"


def mark_interrupted(
    session: Session,
    stale_after: timedelta | None = None,
    run_ids: Iterable[int] | None = None,
    reason: str = INTERRUPTED,
) -> int:
    """Runs left ``running`` by a dead process become ``interrupted``: those whose heartbeat is
    older than ``stale_after``, and/or exactly ``run_ids``. Returns how many. With neither, it
    refuses: marking every running run would interrupt live ones."""
    if stale_after is None and run_ids is None:
        raise ValueError("mark_interrupted needs stale_after or run_ids: expected at least one of them")
    query = update(Run).where(Run.status == "running")
    if run_ids is not None:
        query = query.where(Run.id.in_(list(run_ids)))
    if stale_after is not None:
        query = query.where(or_(Run.heartbeat_at.is_(None), Run.heartbeat_at < utcnow() - stale_after))
    return session.execute(query.values(status="interrupted", finished_at=utcnow(), error=reason)).rowcount


def stale_ids(session: Session, stale_after: timedelta) -> list[int]:
    """Running runs without a heartbeat for ``stale_after`` (a read: lookers write only when needed)."""
    return [run_id for run_id, _, _ in stale_runs(session, stale_after)]


def stale_runs(session: Session, stale_after: timedelta) -> list[tuple[int, int | None, str | None]]:
    """(run id, pid of its process, host of its worker) of each run without a heartbeat for ``stale_after``."""
    query = (
        select(Run.id, Run.pid, Worker.host)
        .outerjoin(Worker, Worker.id == Run.worker_id)
        .where(Run.status == "running", or_(Run.heartbeat_at.is_(None), Run.heartbeat_at < utcnow() - stale_after))
        .order_by(Run.id)
    )
    return [tuple(row) for row in session.execute(query)]


def running_ids(session: Session, worker_id: int) -> list[int]:
    """Runs a worker claimed that are still running."""
    return list(session.scalars(select(Run.id).where(Run.worker_id == worker_id, Run.status == "running")))


def add_points(session: Session, run_id: int, step: int, epoch: float | None, values: dict[str, float]) -> None:
    rows = [
        {"run_id": run_id, "step": int(step), "epoch": epoch, "name": name, "value": float(v), "created_at": utcnow()}
        for name, v in values.items()
        if v is not None
    ]
    if rows:
        session.execute(insert(MetricPoint), rows)


def points(session: Session, run_ids: Iterable[int], names: Iterable[str] | None = None) -> list[MetricPoint]:
    query = select(MetricPoint).where(MetricPoint.run_id.in_(list(run_ids)))
    if names is not None:
        query = query.where(MetricPoint.name.in_(list(names)))
    return list(session.scalars(query.order_by(MetricPoint.run_id, MetricPoint.step, MetricPoint.id)))


def save_prediction(session: Session, run_id: int, sample_id: int, output: dict, raw: str | None = None, seconds: float = 0.0) -> None:
    session.execute(delete(Prediction).where(Prediction.run_id == run_id, Prediction.sample_id == sample_id))
    session.add(Prediction(run_id=run_id, sample_id=sample_id, output=output, raw=raw, seconds=seconds))


def predictions(session: Session, run_id: int) -> list[Prediction]:
    return list(session.scalars(select(Prediction).where(Prediction.run_id == run_id).order_by(Prediction.sample_id)))


def set_metrics(session: Session, run_id: int, metrics: dict) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(metrics=metrics))


def duration(run: Run) -> float | None:
    if run.started_at is None:
        return None
    end: datetime = run.finished_at or utcnow()
    return (end - run.started_at).total_seconds()


def prediction_ids(session: Session, run_id: int) -> dict[int, int]:
    """{sample id: prediction id} of a run's stored predictions, without loading their outputs."""
    rows = session.execute(select(Prediction.sample_id, Prediction.id).where(Prediction.run_id == run_id))
    return {int(sample_id): int(pid) for sample_id, pid in rows}


def jobs_of(session: Session, parent_run_id: int, kind: str) -> list[Run]:
    """Runs of ``kind`` started for ``parent_run_id`` (evaluations of a run, its exports, ...), newest first."""
    query = select(Run).where(Run.parent_run_id == parent_run_id, Run.kind == kind).order_by(Run.id.desc())
    return list(session.scalars(query))
