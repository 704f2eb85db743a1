"""drafts of unsaved edits, a per-project revision for maintained counts, indexes for counts and id order

Revision ID: 0006_uisafe
Revises: 0005_runs
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_uisafe'
down_revision = '0005_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    op.create_table('drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('annotator', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edits', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sample_id', 'annotator', name='uq_drafts_sample_annotator')
    )
    op.drop_index('ix_samples_project_split', table_name='samples')
    op.create_index('ix_samples_project_split_status', 'samples', ['project_id', 'split', 'status'], unique=False)
    op.create_index('ix_samples_project_id', 'samples', ['project_id', 'id'], unique=False)
    op.drop_index('ix_annotations_label_id', table_name='annotations')
    op.create_index('ix_annotations_label_source', 'annotations', ['label_id', 'source'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_annotations_label_source', table_name='annotations')
    op.create_index('ix_annotations_label_id', 'annotations', ['label_id'], unique=False)
    op.drop_index('ix_samples_project_id', table_name='samples')
    op.drop_index('ix_samples_project_split_status', table_name='samples')
    op.create_index('ix_samples_project_split', 'samples', ['project_id', 'split'], unique=False)
    op.drop_table('drafts')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('revision')
