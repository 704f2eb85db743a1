"""SQLAlchemy 2 models. Invariants live in the database as constraints."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("task IN ('ner', 'classification')", name="ck_projects_task"),
        CheckConstraint("queue_order IN ('import', 'random', 'least_confidence', 'margin', 'entropy')",
                        name="ck_projects_queue_order"),
        CheckConstraint("queue_aggregate IN ('min', 'mean')", name="ck_projects_queue_aggregate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    task: Mapped[str] = mapped_column(String(20))
    multilabel: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(20), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Changes in the same transaction as every change to the project's samples, human annotations
    # or labels (db.projects.touch): the key of the cached counts (db.samples.stats).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The order the labelling queue follows (core.labeling.active.reorder_queue writes it with the
    # samples' priorities): import order, a seeded shuffle, or an uncertainty measure over words.
    queue_order: Mapped[str] = mapped_column(String(40), default="import", server_default="import")
    queue_aggregate: Mapped[str] = mapped_column(String(10), default="min", server_default="min")
    # Import choices remembered per project, e.g. {"decode_entities": true} (&amp; -> &).
    import_options: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    labels: Mapped[list[Label]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Label.position"
    )


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_labels_project_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(20), default="#7aa2f7")
    hotkey: Mapped[str | None] = mapped_column(String(5), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="labels")

    @validates("colour")
    def _check_colour(self, _key: str, colour: str) -> str:
        # Colours reach the pages' CSS: only #rrggbb is ever stored, whichever path writes it.
        from db.projects import check_colour

        return check_colour(colour, self.name)


class Sample(Base):
    __tablename__ = "samples"
    __table_args__ = (
        CheckConstraint("split IN ('train', 'dev', 'test', 'unassigned')", name="ck_samples_split"),
        CheckConstraint("status IN ('unlabeled', 'labeled', 'skipped')", name="ck_samples_status"),
        CheckConstraint("version >= 1", name="ck_samples_version"),
        # The labelling queue: next sample by status, then priority (active learning), then id.
        Index("ix_samples_queue", "project_id", "status", "priority", "id"),
        # Counts per split and status read this index alone (no table rows).
        Index("ix_samples_project_split_status", "project_id", "split", "status"),
        # A project's samples in id order (browsing, streaming): no sort of every row.
        Index("ix_samples_project_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    # Word tokens as [[start, end], ...] character offsets; derived from text, stored as a cache.
    tokens: Mapped[list] = mapped_column(JSON)
    split: Mapped[str] = mapped_column(String(20), default="unassigned")
    status: Mapped[str] = mapped_column(String(20), default="unlabeled")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    # Higher first in the labelling queue; active learning writes uncertainty here.
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    annotator: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    annotations: Mapped[list[Annotation]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="Annotation.start_char"
    )

    # Optimistic locking: every UPDATE checks and bumps the version.
    __mapper_args__ = {"version_id_col": version}


class Annotation(Base):
    """A span (start_char/end_char set) or a category (both NULL) on a sample."""

    __tablename__ = "annotations"
    __table_args__ = (
        CheckConstraint(
            "(start_char IS NULL AND end_char IS NULL) OR "
            "(start_char IS NOT NULL AND end_char IS NOT NULL AND start_char >= 0 AND start_char < end_char)",
            name="ck_annotations_span",
        ),
        CheckConstraint("source IN ('human', 'model', 'llm')", name="ck_annotations_source"),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="ck_annotations_confidence"
        ),
        Index("ix_annotations_sample_source", "sample_id", "source"),
        Index("ix_annotations_label_source", "label_id", "source"),  # counts per label
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"))
    start_char: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_char: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(10), default="human")
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    annotator: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    sample: Mapped[Sample] = relationship(back_populates="annotations")
    label: Mapped[Label] = relationship()


class Run(Base):
    __tablename__ = "runs"
    # ``kind`` has no CHECK: the worker's dispatch table (core/runs/jobs.py) is the one list of
    # kinds, so adding a kind is one line there; the worker fails a run of an unknown kind.
    __table_args__ = (
        CheckConstraint("phase_progress IS NULL OR (phase_progress >= 0 AND phase_progress <= 1)",
                        name="ck_runs_phase_progress"),
        CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')",
            name="ck_runs_status",
        ),
        Index("ix_runs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="finetune")
    name: Mapped[str] = mapped_column(String(200), default="")
    # JSON of the run's one config dataclass (TrainConfig, IclConfig, ...).
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    device: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The worker that claimed the run: when that worker dies, its running runs are interrupted.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL", name="fk_runs_worker_id_workers"), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    # What the run is doing now ("training", "evaluating 2/3", "exporting") and how far that phase
    # is, so a page can show a moving bar and an ETA for phases that are not training steps.
    phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phase_progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    phase_started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    total_steps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trainable_params: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_params: Mapped[int | None] = mapped_column(Integer, nullable=True)
    peak_memory_mb: Mapped[float | None] = mapped_column(Float, nullable=True)
    labels_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    log_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Final metrics, and cached evaluations keyed by split: {"dev": {...}, "eval": {"test": {...}}}.
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)

    points: Mapped[list[MetricPoint]] = relationship(back_populates="run", cascade="all, delete-orphan")


class MetricPoint(Base):
    __tablename__ = "metric_points"
    __table_args__ = (Index("ix_metric_points_run_name_step", "run_id", "name", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[float | None] = mapped_column(Float, nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    run: Mapped[Run] = relationship(back_populates="points")


class Prediction(Base):
    """A run's output on one sample (ICL raw text and parse, fine-tuned predictions)."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("run_id", "sample_id", name="uq_predictions_run_sample"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    # {"spans": [[start, end, label], ...]} or {"categories": [...], "scores": {...}}
    output: Mapped[dict] = mapped_column(JSON, default=dict)
    raw: Mapped[str | None] = mapped_column(Text, nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Worker(Base):
    """One background worker process and its heartbeat: the app (or anyone) tells a live worker
    from a dead one by ``beat_at``, not by the lock file alone."""

    __tablename__ = "workers"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'stopped', 'dead')", name="ck_workers_status"),
        Index("ix_workers_status_beat", "status", "beat_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    parent_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # {"train": [run ids], "batch": [...], "quick": [...]} as of the last beat.
    lanes: Mapped[dict] = mapped_column(JSON, default=dict)
    # Why it stopped or died, for the Train and Runs pages.
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Draft(Base):
    """A person's unsaved edits to one sample, stored as they are made so that a reload, another
    page or a closed tab loses nothing; deleted when that person saves the sample."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("sample_id", "annotator", name="uq_drafts_sample_annotator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    annotator: Mapped[str] = mapped_column(String(100), default="")  # "" when no name is set
    version: Mapped[int] = mapped_column(Integer)  # the sample version the edits were made on
    # {"spans": [[start, end, label], ...]} or {"categories": [...]}
    edits: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
