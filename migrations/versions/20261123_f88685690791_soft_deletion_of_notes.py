"""Soft deletion of notes: deleted_at and deleted_by_id (both set or both empty), so a deleted note can be restored

Revision ID: f88685690791
Revises: c54d7fc9d20b
Create Date: 2026-11-23 15:31:59.637647

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f88685690791'
down_revision = 'c54d7fc9d20b'
branch_labels = None
depends_on = None

DELETION_COMPLETE = "(deleted_at IS NULL) = (deleted_by_id IS NULL)"


def upgrade():
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notes_deleted_by_id_users'), 'users', ['deleted_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_notes_deletion_complete'), DELETION_COMPLETE)


def downgrade():
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notes_deletion_complete'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_notes_deleted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('deleted_by_id')
        batch_op.drop_column('deleted_at')
