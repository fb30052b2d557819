"""users.max_caseload may be empty: no limit (crm.stats capacity)

Revision ID: b7c1d2e3f405
Revises: 8787fd304390
Create Date: 2026-11-23 12:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f405'
down_revision = '8787fd304390'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('max_caseload', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("UPDATE users SET max_caseload = 60 WHERE max_caseload IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('max_caseload', existing_type=sa.Integer(), nullable=False)
