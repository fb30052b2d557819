"""The notes index (member_id, created_at) also holds deleted_at, so the queries that skip deleted notes
(case file, neglected members, members served) stay index-only: measured on the 100,000-member bench copy,
the neglected-members scan went from ~175 ms to ~240 ms CPU with the deleted_at filter on the old index

Revision ID: 5e1d7c3a9b20
Revises: c9e1f2a3b4d5
Create Date: 2026-11-23 16:30:00

"""
from alembic import op

revision = '5e1d7c3a9b20'
down_revision = 'c9e1f2a3b4d5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index('ix_notes_member_created')
        batch_op.create_index('ix_notes_member_created', ['member_id', 'created_at', 'deleted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index('ix_notes_member_created')
        batch_op.create_index('ix_notes_member_created', ['member_id', 'created_at'], unique=False)
