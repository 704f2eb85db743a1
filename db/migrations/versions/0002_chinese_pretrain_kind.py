"""runs.kind accepts 'pretrain' (domain-adaptive masked-LM pretraining runs)

Revision ID: 0002_chinese
Revises: 0001
"""
from alembic import op

revision = "0002_chinese"
down_revision = "0001"
branch_labels = None
depends_on = None

BEFORE = "kind IN ('finetune', 'icl', 'preannotate', 'learning_curve')"
AFTER = "kind IN ('finetune', 'icl', 'preannotate', 'learning_curve', 'pretrain')"


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a CHECK constraint in place, so the table is recreated.
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("ck_runs_kind", type_="check")
        batch.create_check_constraint("ck_runs_kind", AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM runs WHERE kind = 'pretrain'")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("ck_runs_kind", type_="check")
        batch.create_check_constraint("ck_runs_kind", BEFORE)
