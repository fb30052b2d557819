"""stage_changes.next_at (when the pair's next move happened), backfilled set-based, and covering indexes for
the dashboard's median days per stage and close reasons, so an uncached dashboard reads index ranges instead of
a LEAD() window over the whole history of every pair moved in the period

Revision ID: c9e1f2a3b4d5
Revises: a4c2e9d7b1f3
Create Date: 2026-11-23 16:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c9e1f2a3b4d5'
down_revision = 'a4c2e9d7b1f3'
branch_labels = None
depends_on = None

# The same statement as crm.pairings.next_moves.REBUILD_SQL, written out so the migration never follows later
# changes of the application code: each row's next move of the same pair, in history (id) order. One seek of
# ix_stage_changes_pairing_id per row: seconds at 650,000 rows, on SQLite and PostgreSQL alike (analysed).
BACKFILL = """
UPDATE stage_changes SET next_at = (
    SELECT n.at FROM stage_changes n
    WHERE n.pairing_id = stage_changes.pairing_id AND n.id > stage_changes.id
    ORDER BY n.id LIMIT 1)
"""


def upgrade():
    op.add_column('stage_changes', sa.Column('next_at', sa.DateTime(), nullable=True))
    # Statistics first: without them PostgreSQL may walk the primary key from each row instead of seeking
    # the pairing_id index, which is quadratic (crm.pairings.next_moves.rebuild).
    op.execute('ANALYZE stage_changes')
    op.execute(BACKFILL)
    # Covering: the statements read only these columns, so no random reads of the table (an index on `at`
    # alone was measured slower than a scan for that reason).
    op.create_index('ix_stage_changes_at_durations', 'stage_changes', ['at', 'to_stage', 'next_at', 'pairing_id'])
    op.create_index('ix_stage_changes_to_stage_at_reason', 'stage_changes',
                    ['to_stage', 'at', 'close_reason', 'pairing_id'])


def downgrade():
    op.drop_index('ix_stage_changes_to_stage_at_reason', table_name='stage_changes')
    op.drop_index('ix_stage_changes_at_durations', table_name='stage_changes')
    with op.batch_alter_table('stage_changes') as batch_op:
        batch_op.drop_column('next_at')
