"""runs.kind accepts 'pretrain' (domain-adaptive masked-LM pretraining runs)

Revision ID: 0004_chinese
Revises: 0003_formats
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_chinese"
down_revision = "0003_formats"
branch_labels = None
depends_on = None

OLD_KINDS = ("finetune", "icl", "preannotate", "learning_curve", "evaluate", "label_errors", "icl_preview",
             "attribution", "export_model")
NEW_KINDS = OLD_KINDS + ("pretrain",)


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
        if had_kind_check:
            batch_op.drop_constraint("ck_runs_kind", type_="check")
        batch_op.create_check_constraint("ck_runs_kind", _kinds(NEW_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM runs WHERE kind = 'pretrain'"))
    with op.batch_alter_table("runs", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint("ck_runs_kind", type_="check")
        batch_op.create_check_constraint("ck_runs_kind", _kinds(OLD_KINDS))
