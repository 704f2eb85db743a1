"""projects.import_options: per-project import choices (HTML entity decoding)

Revision ID: 0002_formats
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_formats"
down_revision = "0002_quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("import_options", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("import_options")
