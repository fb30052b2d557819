"""members (owner_id, status) and (branch_id, status) carry the member id: SQLite's indexes hold the rowid
anyway, PostgreSQL's do not, so there "the ids of a volunteer's (a branch's) members" read a heap page per
member instead of the index alone. At 100,000 members on PostgreSQL: a volunteer's board, the dashboard's
volunteers table (open caseloads, overdue consents) and its neglected members; the uncached dashboard
~84 -> ~75 ms

Revision ID: d7e3b5a1c9f2
Revises: a6f3c9d2e71b
Create Date: 2026-12-06 23:15:00

"""
from alembic import op

revision = 'd7e3b5a1c9f2'
down_revision = 'a6f3c9d2e71b'
branch_labels = None
depends_on = None

INDEXES = {"ix_members_owner_status": ["owner_id", "status"], "ix_members_branch_status": ["branch_id", "status"]}


def _recreate(columns_of) -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='members')
        op.create_index(name, 'members', columns_of(columns))
        if op.get_bind().dialect.name == 'sqlite':
            # A dropped index takes its statistics along; without them SQLite may prefer another index
            # (the bench data is ANALYZEd), as migration b2d4f6a8c0e1 found.
            op.execute(f'ANALYZE {name}')


def upgrade():
    _recreate(lambda columns: [*columns, 'id'])


def downgrade():
    _recreate(lambda columns: columns)
