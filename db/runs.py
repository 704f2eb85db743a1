"""Repository functions for runs, metric points and predictions. Session first; never commit.

The worker and the UI talk only through these rows: the UI queues runs and sets
``cancel_requested``; the worker claims runs, writes MetricPoints and the final status.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from db.errors import NotFound
from db.models import MetricPoint, Prediction, Project, Run, utcnow

ACTIVE = ("queued", "running")
FINISHED = ("completed", "failed", "cancelled", "interrupted")


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


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}; list runs with `cli.py runs PROJECT`")
    return run


def list_runs(session: Session, project: Project | None = None, kinds: Iterable[str] | None = None) -> list[Run]:
    query = select(Run).order_by(Run.id.desc())
    if project is not None:
        query = query.where(Run.project_id == project.id)
    if kinds is not None:
        query = query.where(Run.kind.in_(list(kinds)))
    return list(session.scalars(query))


def claim_next(session: Session, pid: int | None = None) -> Run | None:
    """Atomically move the oldest queued run to running; None when the queue is empty.

    The conditional UPDATE makes two workers never claim the same run.
    """
    while True:
        run_id = session.scalar(select(Run.id).where(Run.status == "queued").order_by(Run.id).limit(1))
        if run_id is None:
            return None
        now = utcnow()
        claimed = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, pid=pid)
        ).rowcount
        if claimed:
            session.expire_all()
            return session.get(Run, run_id)


def mark_started(session: Session, run_id: int, pid: int | None, device: str | None = None) -> None:
    now = utcnow()
    session.execute(
        update(Run).where(Run.id == run_id).values(status="running", started_at=now, heartbeat_at=now, pid=pid, device=device)
    )


def heartbeat(session: Session, run_id: int, **values) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow(), **values))


def request_cancel(session: Session, run_id: int) -> Run:
    run = get_run(session, run_id)
    if run.status == "queued":
        run.status = "cancelled"
        run.finished_at = utcnow()
    if run.status in ACTIVE or run.status == "cancelled":
        run.cancel_requested = True
    session.flush()
    return run


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def finish(
    session: Session,
    run_id: int,
    status: str,
    metrics: dict | None = None,
    error: str | None = None,
    checkpoint: str | None = None,
) -> None:
    values: dict = {"status": status, "finished_at": utcnow(), "error": error}
    if metrics is not None:
        values["metrics"] = metrics
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    # Never overwrite a final status (a cancelled queued run stays cancelled).
    session.execute(update(Run).where(Run.id == run_id, Run.status.in_(ACTIVE)).values(**values))


def mark_interrupted(session: Session, stale_after: timedelta | None = None, run_ids: Iterable[int] | None = None) -> int:
    """Runs left ``running`` by a dead worker become ``interrupted``. Returns how many."""
    query = update(Run).where(Run.status == "running")
    if run_ids is not None:
        query = query.where(Run.id.in_(list(run_ids)))
    if stale_after is not None:
        query = query.where(Run.heartbeat_at < utcnow() - stale_after)
    reason = "the worker stopped while this run was running (restart or crash); start it again"
    return session.execute(query.values(status="interrupted", finished_at=utcnow(), error=reason)).rowcount


def add_points(session: Session, run_id: int, step: int, epoch: float | None, values: dict[str, float]) -> None:
    rows = [
        {"run_id": run_id, "step": int(step), "epoch": epoch, "name": name, "value": float(v), "created_at": utcnow()}
        for name, v in values.items()
        if v is not None
    ]
    if rows:
        session.execute(insert(MetricPoint), rows)


def points(session: Session, run_ids: Iterable[int], names: Iterable[str] | None = None, after_id: int = 0) -> list[MetricPoint]:
    query = select(MetricPoint).where(MetricPoint.run_id.in_(list(run_ids)), MetricPoint.id > after_id)
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
