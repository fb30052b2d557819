"""Follow-ups follow their case: counselling's own kinds, and the stale ones of earlier versions put right

Until now follow-ups stayed with a volunteer who had lost the case, stayed open on closed introductions and
closed case files, and counselling's follow-ups were "other" with a title. From this revision the application
hands them over and ends them as the case changes (crm.followups.services); this brings existing rows into
the same state:

- the follow-ups of risk alerts get the kind ``risk_alert``, a planned session's the kind ``counselling``;
- open follow-ups of closed or married introductions, and open casework follow-ups of closed case files, end;
- open follow-ups of closed referrals end;
- an open casework follow-up still assigned to a former owner of its case goes to the owner.

Revision ID: b3c5d7e9f1a2
Revises: f1b9d3e5a7c2
Create Date: 2026-12-07 21:00:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = 'b3c5d7e9f1a2'
down_revision = 'f1b9d3e5a7c2'
branch_labels = None
depends_on = None

# The words the application writes in the default language (zh_CN) when it ends such a follow-up.
INTRODUCTION_CLOSED = '该介绍已结束。'
CASE_CLOSED = '该个案已结案。'
REFERRAL_CLOSED = '该转介已结束。'
# The title the application gave a planned session's follow-up, in either language.
SESSION_TITLES = ('心理咨询', 'Counselling session')
CASEWORK = "followups.kind NOT IN ('counselling', 'risk_alert')"


def _end(where: str, outcome: str, now) -> None:
    op.execute(sa.text(f"UPDATE followups SET done_at = :now, outcome = :outcome, version = version + 1 "
                       f"WHERE done_at IS NULL AND {where}").bindparams(now=now, outcome=outcome))


def upgrade():
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute("UPDATE followups SET kind = 'risk_alert' "
               "WHERE id IN (SELECT followup_id FROM risk_alert_followups)")
    op.execute(sa.text("UPDATE followups SET kind = 'counselling', title = NULL "
                       "WHERE kind = 'other' AND title IN :titles")
               .bindparams(sa.bindparam('titles', value=list(SESSION_TITLES), expanding=True)))
    _end("pairing_id IN (SELECT id FROM pairings WHERE stage IN ('closed', 'married'))", INTRODUCTION_CLOSED, now)
    _end(f"{CASEWORK} AND member_id IN (SELECT id FROM members WHERE status = 'closed')", CASE_CLOSED, now)
    _end("kind = 'counselling' AND NOT EXISTS (SELECT 1 FROM referrals WHERE referrals.member_id = "
         "followups.member_id AND referrals.counsellor_id = followups.assignee_id AND referrals.status != 'closed')",
         REFERRAL_CLOSED, now)
    op.execute(f"""UPDATE followups SET version = version + 1,
        assignee_id = (SELECT owner_id FROM members WHERE members.id = followups.member_id)
        WHERE done_at IS NULL AND {CASEWORK} AND EXISTS (
            SELECT 1 FROM members JOIN assignments ON assignments.member_id = members.id
            WHERE members.id = followups.member_id AND members.owner_id IS NOT NULL
              AND members.owner_id != followups.assignee_id AND assignments.from_user_id = followups.assignee_id)""")


def downgrade():
    # The ended and handed-over follow-ups stay as they are (they were stale); the kinds go back.
    op.execute("UPDATE followups SET kind = 'other' WHERE kind IN ('counselling', 'risk_alert')")
