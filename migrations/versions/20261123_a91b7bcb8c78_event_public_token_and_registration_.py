"""Members sign themselves up for events: each event gets a random public token (its public page
/events/join/<token>, so event ids cannot be walked) and each registration the channel it came
through (a volunteer, or the member on the public page).

Revision ID: a91b7bcb8c78
Revises: 76fc1bba08ab
Create Date: 2026-11-23 14:00:30.160646

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a91b7bcb8c78'
down_revision = '76fc1bba08ab'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('volunteer', 'self', name='registrationchannel',
                                                         native_enum=False, length=24),
                                      nullable=False, server_default='volunteer'))
        batch_op.create_check_constraint(op.f('ck_event_registrations_channel_known'),
                                         "channel IN ('volunteer', 'self')")

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_token', sa.String(length=32), nullable=True))

    # Existing events get their token here (random per event, as the model's default makes them).
    bind = op.get_bind()
    events = sa.table('events', sa.column('id', sa.Integer), sa.column('public_token', sa.String))
    for (event_id,) in bind.execute(sa.select(events.c.id)).all():
        bind.execute(events.update().where(events.c.id == event_id)
                     .values(public_token=secrets.token_urlsafe(16)))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('public_token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_events_public_token'), ['public_token'])


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_events_public_token'), type_='unique')
        batch_op.drop_column('public_token')

    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_registrations_channel_known'), type_='check')
        batch_op.drop_column('channel')
