"""optimistic locking of referrals (assign and close show both versions on a conflict)

Revision ID: 76fc1bba08ab
Revises: bf8ece343461
Create Date: 2026-11-23 13:48:59.272723

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '76fc1bba08ab'
down_revision = 'bf8ece343461'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('version')

