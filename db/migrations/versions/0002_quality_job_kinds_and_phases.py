"""run kinds for background jobs (evaluate, label errors, ICL preview, attribution, model export)
and the phase a run is in, with its own progress

Revision ID: 0002_quality
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_quality"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_KINDS = ("finetune", "icl", "preannotate", "learning_curve")
NEW_KINDS = OLD_KINDS + ("evaluate", "label_errors", "icl_preview", "attribution", "export_model")


def _kinds(kinds: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def _has_kind_check() -> bool:
    # Another revision of this round may have dropped ck_runs_kind already: widen it either way.
    checks = sa.inspect(op.get_bind()).get_check_constraints("runs")
    return any(c["name"] == "ck_runs_kind" for c in checks)


def upgrade() -> None:
    had_kind_check = _has_kind_check()
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("runs", schema=None, recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("phase_progress", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("phase_started_at", sa.DateTime(), nullable=True))
        if had_kind_check:
            batch_op.drop_constraint("ck_runs_kind", type_="check")
        batch_op.create_check_constraint("ck_runs_kind", _kinds(NEW_KINDS))
        batch_op.create_check_constraint(
            "ck_runs_phase_progress", "phase_progress IS NULL OR (phase_progress >= 0 AND phase_progress <= 1)"
        )


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM runs WHERE kind IN ({', '.join(repr(k) for k in NEW_KINDS[len(OLD_KINDS):])})"))
    with op.batch_alter_table("runs", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint("ck_runs_phase_progress", type_="check")
        batch_op.drop_constraint("ck_runs_kind", type_="check")
        batch_op.create_check_constraint("ck_runs_kind", _kinds(OLD_KINDS))
        batch_op.drop_column("phase_started_at")
        batch_op.drop_column("phase_progress")
        batch_op.drop_column("phase")
