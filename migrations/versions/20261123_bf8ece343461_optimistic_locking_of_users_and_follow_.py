"""optimistic locking of users and follow-ups; checks that must never break

users.version counts administrators' edits (crm.admin); followups.version is the follow-up's version_id_col.
CHECKs: a volunteer's capacity is never negative, a member's partner-height band is ordered and the number of
children never negative, a counselling session lasts some time, badge numbers start at 1, and the status columns
of members, referrals and event registrations hold only the values their enums know.

Revision ID: bf8ece343461
Revises: c3f1a9d2e7b4
Create Date: 2026-11-23 13:38:29.448136

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'bf8ece343461'
down_revision = 'c3f1a9d2e7b4'
branch_labels = None
depends_on = None

REFERRAL_STATUSES = "status IN ('open', 'accepted', 'closed')"
REGISTRATION_STATUSES = "status IN ('registered', 'waitlisted', 'cancelled', 'attended', 'no_show')"


def upgrade():
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_max_caseload_not_negative'),
                                         'max_caseload IS NULL OR max_caseload >= 0')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_members_pref_height_order'),
            'pref_height_min IS NULL OR pref_height_max IS NULL OR pref_height_min <= pref_height_max')
        batch_op.create_check_constraint(op.f('ck_members_children_count_not_negative'), 'children_count >= 0')
        batch_op.create_check_constraint(
            op.f('ck_members_status_known'),
            "status IN ('intake', 'active', 'paused', 'in_relationship', 'closed')")

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_referrals_status_known'), REFERRAL_STATUSES)

    with op.batch_alter_table('counselling_sessions', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_counselling_sessions_duration_positive'), 'duration_minutes > 0')

    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_event_registrations_badge_number_positive'), 'badge_number > 0')
        batch_op.create_check_constraint(op.f('ck_event_registrations_status_known'), REGISTRATION_STATUSES)


def downgrade():
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_registrations_status_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_event_registrations_badge_number_positive'), type_='check')

    with op.batch_alter_table('counselling_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_counselling_sessions_duration_positive'), type_='check')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_referrals_status_known'), type_='check')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_status_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_members_children_count_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_members_pref_height_order'), type_='check')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_max_caseload_not_negative'), type_='check')
        batch_op.drop_column('version')

    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_column('version')

