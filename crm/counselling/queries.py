"""Read queries for counselling. Confidential notes are loaded by ``readable_notes`` and nowhere else.

Every other query loads ``CounsellingSession`` without ``confidential_notes`` (the column is deferred
with raiseload), so an accidental ``session.confidential_notes`` raises instead of leaking.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm.audit.services import record
from crm.auth.models import Role, User
from crm.clock import today
from crm.counselling.models import (
    CaseShare,
    CounsellingSession,
    Referral,
    ReferralStatus,
    RiskAlert,
)
from crm.extensions import db


def referral(referral_id: int) -> Referral | None:
    return db.session.scalars(
        select(Referral).options(joinedload(Referral.member), joinedload(Referral.counsellor),
                                 joinedload(Referral.referred_by), selectinload(Referral.shares))
        .where(Referral.id == referral_id)).first()


def sessions(referral_id: int) -> list[CounsellingSession]:
    """The session log of a referral, newest first, without the confidential notes."""
    return list(db.session.scalars(
        select(CounsellingSession).options(joinedload(CounsellingSession.counsellor))
        .where(CounsellingSession.referral_id == referral_id)
        .order_by(CounsellingSession.held_on.desc(), CounsellingSession.id.desc())))


def _notes_clause(user):
    """Sessions whose notes ``user`` may read: their own, or shared with them by the author."""
    shared = exists().where(CaseShare.referral_id == CounsellingSession.referral_id,
                            CaseShare.counsellor_id == user.id,
                            CaseShare.shared_by_id == CounsellingSession.counsellor_id)
    return or_(CounsellingSession.counsellor_id == user.id, shared)


def readable_notes(user, referral: Referral) -> dict[int, str]:
    """{session id: confidential notes} for the sessions of ``referral`` that ``user`` may read.

    The only place the notes are loaded. Each read is written to the audit log (which session ids,
    never the text). Anyone but a counsellor gets nothing, whatever else they may be.
    """
    if not user.has_role(Role.COUNSELLOR):
        return {}
    rows = db.session.execute(
        select(CounsellingSession.id, CounsellingSession.confidential_notes)
        .where(CounsellingSession.referral_id == referral.id, _notes_clause(user))
        .order_by(CounsellingSession.id)).all()
    notes = {row.id: row.confidential_notes for row in rows}
    if notes:
        record(user, "counselling.notes_read", referral, session_ids=sorted(notes), member_id=referral.member_id)
    return notes


@cache
def _panel_statement():
    """``panel_for``'s statement, built once (it runs on every case file view; issue 10), on first use: its
    loader options configure the mappers, which needs every model imported."""
    return (select(Referral, CounsellingSession)
            .outerjoin(CounsellingSession, CounsellingSession.referral_id == Referral.id)
            .options(joinedload(Referral.counsellor), joinedload(CounsellingSession.counsellor))
            .where(Referral.member_id == bindparam("member_id"))
            .order_by(Referral.created_at.desc(), Referral.id.desc(), CounsellingSession.held_on.desc(),
                      CounsellingSession.id.desc()))


def panel_for(user, member_id: int) -> list[tuple[Referral, list[CounsellingSession]]]:
    """The counselling panel of a case file: each referral of the member with its sessions, in one statement."""
    rows = db.session.execute(_panel_statement(), {"member_id": member_id}).all()
    panel: dict[int, tuple[Referral, list]] = {}
    for referral, session in rows:
        panel.setdefault(referral.id, (referral, []))
        if session is not None:
            panel[referral.id][1].append(session)
    return list(panel.values())


@dataclass
class CounsellorHome:
    caseload: list
    queue: list
    upcoming: list
    shared: list
    closed: list


def counsellor_home(user) -> CounsellorHome:
    """The counsellor's lists, each one statement whatever the numbers."""
    last_session = (select(func.max(CounsellingSession.held_on))
                    .where(CounsellingSession.referral_id == Referral.id).correlate(Referral).scalar_subquery())
    base = select(Referral, last_session.label("last_session_on")).options(joinedload(Referral.member))
    caseload = db.session.execute(base.where(Referral.counsellor_id == user.id,
                                             Referral.status == ReferralStatus.ACCEPTED)
                                  .order_by(Referral.accepted_at.desc())).all()
    queue = list(db.session.scalars(
        select(Referral).options(joinedload(Referral.member), joinedload(Referral.referred_by))
        .where(Referral.branch_id == user.branch_id, Referral.status == ReferralStatus.OPEN,
               Referral.counsellor_id.is_(None)).order_by(Referral.created_at)))
    upcoming = db.session.execute(
        select(CounsellingSession.next_session_on, Referral)
        .join(Referral, CounsellingSession.referral_id == Referral.id).options(joinedload(Referral.member))
        .where(Referral.counsellor_id == user.id, CounsellingSession.next_session_on >= today(),
               Referral.status == ReferralStatus.ACCEPTED)
        .order_by(CounsellingSession.next_session_on).limit(20)).all()
    shared = list(db.session.scalars(
        select(Referral).join(CaseShare, CaseShare.referral_id == Referral.id)
        .options(joinedload(Referral.member), joinedload(Referral.counsellor))
        .where(CaseShare.counsellor_id == user.id).order_by(Referral.id.desc())))
    closed = list(db.session.scalars(
        select(Referral).options(joinedload(Referral.member))
        .where(Referral.counsellor_id == user.id, Referral.status == ReferralStatus.CLOSED)
        .order_by(Referral.closed_at.desc()).limit(20)))
    return CounsellorHome(caseload, queue, upcoming, shared, closed)


def counselled_referrals(user) -> dict[int, int]:
    """{member id: referral id} of the referrals ``user`` counsels now (their follow-ups link to them)."""
    if not user.has_role(Role.COUNSELLOR):
        return {}
    return dict(db.session.execute(select(Referral.member_id, Referral.id).where(
        Referral.counsellor_id == user.id, Referral.status != ReferralStatus.CLOSED)).all())


def branch_counsellors(branch_id: int) -> list[User]:
    return list(db.session.scalars(User.with_role(Role.COUNSELLOR).where(User.branch_id == branch_id)
                                   .order_by(User.display_name)))


def share_candidates(referral: Referral, user) -> list[User]:
    taken = referral.shared_with_ids | {user.id}
    return [u for u in db.session.scalars(User.with_role(Role.COUNSELLOR).order_by(User.display_name))
            if u.id not in taken]


def open_risk_alert_count(user) -> int:
    """Unacknowledged high risk alerts of the supervisor's branch: one indexed count."""
    return db.session.scalar(select(func.count()).select_from(RiskAlert)
                             .where(RiskAlert.branch_id == user.branch_id, RiskAlert.acknowledged_at.is_(None)))


def risk_alerts(user, *, recent_days: int = 90) -> list[RiskAlert]:
    """The branch's alerts: every open one, then those acknowledged recently."""
    since = date.fromordinal(today().toordinal() - recent_days)
    return list(db.session.scalars(
        select(RiskAlert).options(joinedload(RiskAlert.member), joinedload(RiskAlert.acknowledged_by),
                                  joinedload(RiskAlert.session).joinedload(CounsellingSession.counsellor))
        .where(RiskAlert.branch_id == user.branch_id,
               or_(RiskAlert.acknowledged_at.is_(None), RiskAlert.raised_at >= since))
        .order_by(RiskAlert.acknowledged_at.is_not(None), RiskAlert.raised_at.desc())))


