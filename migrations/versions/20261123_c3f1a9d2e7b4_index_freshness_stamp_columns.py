"""index members.updated_at and pairings.stage_changed_at (suggestion index freshness stamp)

Revision ID: c3f1a9d2e7b4
Revises: b7c1d2e3f405
Create Date: 2026-11-23 13:16:00

max(updated_at) over 100,000 members and max(stage_changed_at) over 200,000 pairings are read on
every suggestions request; without these indexes each is a full scan (issue 10, bench/RESULTS.md).
"""
from alembic import op

revision = 'c3f1a9d2e7b4'
down_revision = 'b7c1d2e3f405'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_members_updated_at', 'members', ['updated_at'], unique=False)
    op.create_index('ix_pairings_stage_changed_at', 'pairings', ['stage_changed_at'], unique=False)


def downgrade():
    op.drop_index('ix_pairings_stage_changed_at', table_name='pairings')
    op.drop_index('ix_members_updated_at', table_name='members')
