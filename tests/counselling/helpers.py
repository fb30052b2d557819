"""A counselling world: one member referred, accepted by a counsellor, with a confidential session."""

from datetime import timedelta

from crm.clock import now_utc, today
from crm.counselling.models import (
    ConsentChannel,
    CounsellingSession,
    Referral,
    ReferralStatus,
    Risk,
    RiskAlert,
    SessionMode,
    Topic,
)
from crm.extensions import db
from tests.factories import make_branch, make_member, make_note, make_user

MARKER = "MARKER-7f3c-机密内容"


def make_referral(member, referred_by, *, counsellor=None, status=None, **overrides) -> Referral:
    status = status or (ReferralStatus.ACCEPTED if counsellor else ReferralStatus.OPEN)
    referral = Referral(**{"member_id": member.id, "branch_id": member.branch_id, "reason": "最近情绪低落，想聊聊",
                           "referred_by_id": referred_by.id, "consent_at": now_utc(),
                           "consent_recorded_by_id": referred_by.id, "consent_channel": ConsentChannel.PHONE,
                           "status": status, "counsellor_id": counsellor.id if counsellor else None,
                           "accepted_at": now_utc() if counsellor else None, **overrides})
    db.session.add(referral)
    db.session.flush()
    return referral


def make_session(referral, counsellor, *, notes=MARKER, risk=Risk.NONE, **overrides) -> CounsellingSession:
    session = CounsellingSession(**{"referral_id": referral.id, "counsellor_id": counsellor.id,
                                    "held_on": today() - timedelta(days=2), "duration_minutes": 50,
                                    "mode": SessionMode.IN_PERSON, "topic": Topic.RELATIONSHIP,
                                    "confidential_notes": notes, "shareable_summary": "会员愿意继续沟通",
                                    "next_session_on": today() + timedelta(days=7), "risk": risk, **overrides})
    db.session.add(session)
    db.session.flush()
    if risk is Risk.HIGH:
        db.session.add(RiskAlert(session_id=session.id, branch_id=referral.branch_id, member_id=referral.member_id))
        db.session.flush()
    return session


class CounsellingWorld:
    """Branch A: the member's volunteer, another volunteer, a supervisor, the author counsellor and
    another counsellor; an admin; a supervisor and a counsellor of branch B."""

    def __init__(self):
        self.branch = make_branch()
        self.other_branch = make_branch()
        self.owner = make_user("volunteer", branch=self.branch, display_name="李红娘")
        self.other_volunteer = make_user("volunteer", branch=self.branch, display_name="王红娘")
        self.supervisor = make_user("supervisor", branch=self.branch, display_name="陈主管")
        self.admin = make_user("admin", branch=self.other_branch, display_name="周管理")
        self.author = make_user("counsellor", branch=self.branch, display_name="孙咨询")
        self.other_counsellor = make_user("counsellor", branch=self.branch, display_name="郑咨询")
        self.far_supervisor = make_user("supervisor", branch=self.other_branch, display_name="刘主管")
        self.far_counsellor = make_user("counsellor", branch=self.other_branch, display_name="吴咨询")
        self.member = make_member(owner=self.owner, name="林晓雨")
        self.note = make_note(self.member, self.owner)
        self.referral = make_referral(self.member, self.owner, counsellor=self.author)
        self.session = make_session(self.referral, self.author, risk=Risk.HIGH)
        self.alert = db.session.query(RiskAlert).filter_by(session_id=self.session.id).one()
        self.queued_member = make_member(owner=self.owner, name="林晓风")
        self.queued = make_referral(self.queued_member, self.owner)

    def user(self, role: str):
        return getattr(self, role)
