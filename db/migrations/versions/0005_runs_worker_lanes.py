"""worker heartbeats; runs remember their worker; run kinds come from the dispatch table

- ``workers``: one row per worker process with its heartbeat, so the app tells a dead worker
  from a live one within seconds (issue 11).
- ``runs.worker_id``: the worker that claimed a run; when it dies its running runs are
  interrupted by explicit ids instead of waiting for the stale window.
- ``ck_runs_kind`` dropped: core/runs/jobs.py is the one list of run kinds (adding a kind is one
  line there, issue 14); the worker fails a run of a kind it does not know.

Revision ID: 0005_runs
Revises: 0004_firsthour
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_runs"
down_revision = "0004_firsthour"
branch_labels = None
depends_on = None

# The kinds 0002_quality allowed, for a downgrade.
KINDS_BEFORE = ("kind IN ('finetune', 'icl', 'preannotate', 'learning_curve', 'evaluate', 'label_errors', "
                "'icl_preview', 'attribution', 'export_model')")


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("parent_pid", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("lanes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'stopped', 'dead')", name="ck_workers_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index("ix_workers_status_beat", ["status", "beat_at"], unique=False)
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint("ck_runs_kind", type_="check")
        batch_op.add_column(sa.Column("worker_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_runs_worker_id_workers", "workers", ["worker_id"], ["id"],
                                    ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_runs_worker_id_workers", type_="foreignkey")
        batch_op.drop_column("worker_id")
        batch_op.create_check_constraint("ck_runs_kind", KINDS_BEFORE)
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index("ix_workers_status_beat")
    op.drop_table("workers")
