"""Member name substrings (member_name_grams) for searching any part of a name by index, backfilled

Revision ID: a4c2e9d7b1f3
Revises: d3a1c0b2e5f7
Create Date: 2026-11-23 16:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4c2e9d7b1f3'
down_revision = 'd3a1c0b2e5f7'
branch_labels = None
depends_on = None

GRAM_MAX = 4  # crm.members.models.GRAM_MAX when this was written


def _grams(name):
    text = (name or "").strip().lower()
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, min(len(text), i + GRAM_MAX) + 1)}


def upgrade():
    grams = op.create_table('member_name_grams',
    sa.Column('gram', sa.String(length=16), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_name_grams_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('gram', 'member_id', name=op.f('pk_member_name_grams'))
    )
    op.create_index(op.f('ix_member_name_grams_member_id'), 'member_name_grams', ['member_id'], unique=False)
    # Backfill in Python (substrings are awkward in portable SQL): a few seconds at 100,000 members.
    conn = op.get_bind()
    rows = []
    for member_id, name in conn.execute(sa.text("SELECT id, name FROM members")):
        rows.extend({"gram": g, "member_id": member_id} for g in _grams(name))
        if len(rows) >= 20000:
            conn.execute(grams.insert(), rows)
            rows = []
    if rows:
        conn.execute(grams.insert(), rows)


def downgrade():
    op.drop_index(op.f('ix_member_name_grams_member_id'), table_name='member_name_grams')
    op.drop_table('member_name_grams')
