"""pairing_stage_firsts: when each pairing first reached each forward stage (or a later one), backfilled
from stage_changes, so the statistics read a range of one index instead of the whole history; indexes on
followups.done_at and pairing_consents.recorded_at for the statistics cache's freshness stamp; pairings.created_at
for the counts of proposals in a period (indexes on stage_changes.at were measured slower: more random reads)

Revision ID: b7d2e4f1a9c3
Revises: f88685690791
Create Date: 2026-11-23 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f1a9c3'
down_revision = 'f88685690791'
branch_labels = None
depends_on = None

FORWARD = ["proposed", "awaiting_consent", "introduced", "first_meeting", "dating", "relationship", "engaged",
           "married"]

# The same definition as crm.pairings.firsts.recomputed(), written out so the migration never follows
# later changes of the application code: each pair's earliest move into each stage, spread to every
# earlier forward stage, the earliest kept. Set-based: seconds at 650,000 history rows.
_RANK = "CASE to_stage " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(FORWARD)) + " ELSE -1 END"
_STAGES = " UNION ALL ".join(f"SELECT '{s}' AS stage, {i} AS rank" for i, s in enumerate(FORWARD))
BACKFILL = f"""
INSERT INTO pairing_stage_firsts (pairing_id, stage, reached_at)
SELECT m.pairing_id, s.stage, min(m.at)
FROM (SELECT pairing_id, {_RANK} AS rank, min(at) AS at FROM stage_changes
      WHERE to_stage <> 'closed' GROUP BY pairing_id, to_stage) m
JOIN ({_STAGES}) s ON m.rank >= s.rank
GROUP BY m.pairing_id, s.stage
"""


def upgrade():
    op.create_table(
        'pairing_stage_firsts',
        sa.Column('pairing_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.Enum('proposed', 'awaiting_consent', 'introduced', 'first_meeting', 'dating',
                                   'relationship', 'engaged', 'married', 'closed', name='stage',
                                   native_enum=False, length=24), nullable=False),
        sa.Column('reached_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'],
                                name=op.f('fk_pairing_stage_firsts_pairing_id_pairings'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pairing_id', 'stage', name=op.f('pk_pairing_stage_firsts')),
    )
    op.execute(BACKFILL)
    # built after the backfill: one sort instead of 1.2 million index insertions
    op.create_index('ix_pairing_stage_firsts_stage_reached', 'pairing_stage_firsts', ['stage', 'reached_at'])
    op.create_index('ix_followups_done_at', 'followups', ['done_at'])
    op.create_index('ix_pairing_consents_recorded_at', 'pairing_consents', ['recorded_at'])
    op.create_index('ix_pairings_created_at', 'pairings', ['created_at'])


def downgrade():
    op.drop_index('ix_pairings_created_at', table_name='pairings')
    op.drop_index('ix_pairing_consents_recorded_at', table_name='pairing_consents')
    op.drop_index('ix_followups_done_at', table_name='followups')
    op.drop_index('ix_pairing_stage_firsts_stage_reached', table_name='pairing_stage_firsts')
    op.drop_table('pairing_stage_firsts')
