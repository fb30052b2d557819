"""Pairing stage counts per branch (the pipeline board's column totals), backfilled from the pairings

Revision ID: d3a1c0b2e5f7
Revises: b7d2e4f1a9c3
Create Date: 2026-11-23 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3a1c0b2e5f7'
down_revision = 'b7d2e4f1a9c3'
branch_labels = None
depends_on = None

STAGES = ('proposed', 'awaiting_consent', 'introduced', 'first_meeting', 'dating', 'relationship', 'engaged',
          'married', 'closed')

# One pass over the pairings (about a second at 200,000): each pairing counts once in its low member's
# branch (touching and owned), and once more (touching only) in its high member's branch when that differs.
BACKFILL = """
INSERT INTO pairing_stage_counts (branch_id, stage, touching, owned)
SELECT branch_id, stage, count(*), sum(owned) FROM (
  SELECT low.branch_id AS branch_id, p.stage AS stage, 1 AS owned
  FROM pairings p JOIN members low ON low.id = p.member_low_id
  UNION ALL
  SELECT high.branch_id, p.stage, 0
  FROM pairings p JOIN members low ON low.id = p.member_low_id JOIN members high ON high.id = p.member_high_id
  WHERE high.branch_id <> low.branch_id
) AS sides GROUP BY branch_id, stage
"""


def upgrade():
    op.create_table('pairing_stage_counts',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum(*STAGES, name='stage', native_enum=False, length=24), nullable=False),
    sa.Column('touching', sa.Integer(), nullable=False),
    sa.Column('owned', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_pairing_stage_counts_branch_id_branches'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('branch_id', 'stage', name=op.f('pk_pairing_stage_counts'))
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table('pairing_stage_counts')
