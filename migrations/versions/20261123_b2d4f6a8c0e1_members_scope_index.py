"""members (id, branch_id, owner_id): the pipeline board's visibility check reads a pairing's two members by id
for their branch and owner; this covering index answers that from a small index instead of the wide members
rows. The branch board's card-id statement (each column walked in stage order until 20 visible cards) read
~2,800 member rows at 100,000 members: ~15.5 ms of SQLite CPU before, ~8 ms with the index

Revision ID: b2d4f6a8c0e1
Revises: 5e1d7c3a9b20
Create Date: 2026-11-23 17:00:00

"""
from alembic import op

revision = 'b2d4f6a8c0e1'
down_revision = '5e1d7c3a9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_members_id_scope', 'members', ['id', 'branch_id', 'owner_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite prefers the rowid to an index without statistics; a database with statistics (the bench data
        # is ANALYZEd) needs them for this index too, or the planner keeps reading the wide rows.
        op.execute('ANALYZE ix_members_id_scope')


def downgrade():
    op.drop_index('ix_members_id_scope', table_name='members')
