"""projects remember the order their labelling queue follows

Revision ID: 0004_firsthour
Revises: 0003_formats
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_firsthour"
down_revision = "0003_formats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("queue_order", sa.String(length=40), server_default="import", nullable=False))
        batch.add_column(sa.Column("queue_aggregate", sa.String(length=10), server_default="min", nullable=False))
        batch.create_check_constraint(
            "ck_projects_queue_order",
            "queue_order IN ('import', 'random', 'least_confidence', 'margin', 'entropy')",
        )
        batch.create_check_constraint("ck_projects_queue_aggregate", "queue_aggregate IN ('min', 'mean')")


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_constraint("ck_projects_queue_aggregate", type_="check")
        batch.drop_constraint("ck_projects_queue_order", type_="check")
        batch.drop_column("queue_aggregate")
        batch.drop_column("queue_order")
