"""Counselling workflows: refer, accept, assign, close, log a session, share a case, acknowledge a risk.

Services check the policy, flush and never commit; the view commits once. Each writes its audit
entry, whose detail never holds the confidential notes.
"""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from crm.audit.services import record
from crm.auth import policy
from crm.auth.models import Role, User
from crm.clock import now_utc, today
from crm.counselling.models import (
    CaseShare,
    ConsentChannel,
    CounsellingSession,
    Referral,
    ReferralStatus,
    Risk,
    RiskAlert,
)
from crm.errors import Refusal
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.followups.services import end_followups, end_for_closed_referral, hand_over_referral

log = logging.getLogger(__name__)


def refer_member(member, *, by, reason: str, consent: bool, channel: ConsentChannel,
                 self_referred: bool = False, pairing_id: int | None = None) -> Referral:
    """Refer ``member`` to counselling; with ``self_referred`` staff record the member's own request."""
    if not policy.can_refer_member(by, member):
        raise Refusal(_l("You may not refer this member."), field="reason")
    if not consent:
        raise Refusal(_l("Record the member's consent to the referral first."), field="consent")
    if not (reason or "").strip():
        raise Refusal(_l("Say why the member is referred."), field="reason")
    if db.session.scalar(select(Referral.id).where(Referral.member_id == member.id,
                                                   Referral.status != ReferralStatus.CLOSED).limit(1)):
        raise Refusal(_l("This member already has a referral in progress; close it before referring again."),
                      field="reason")
    now = now_utc()
    referral = Referral(member_id=member.id, branch_id=member.branch_id, pairing_id=pairing_id,
                        reason=reason.strip(), referred_by_id=by.id, is_self_referred=self_referred,
                        consent_at=now, consent_recorded_by_id=by.id, consent_channel=channel,
                        status=ReferralStatus.OPEN, created_at=now)
    db.session.add(referral)
    db.session.flush()
    record(by, "referral.create", referral, member_id=member.id, self_referred=self_referred)
    log.info("referred %r as %r by %r", member, referral, by)
    return referral


def _give(referral: Referral, counsellor: User, *, only_if_queued: bool = False) -> None:
    """Hand the referral to ``counsellor`` in one conditional UPDATE, so that of two people acting at
    once the second is refused instead of silently overwriting the first."""
    query = update(Referral).where(Referral.id == referral.id, Referral.status != ReferralStatus.CLOSED)
    if only_if_queued:
        query = query.where(Referral.status == ReferralStatus.OPEN, Referral.counsellor_id.is_(None))
    else:
        query = query.where(or_(Referral.counsellor_id.is_(None), Referral.counsellor_id == referral.counsellor_id))
    done = db.session.execute(query.values(counsellor_id=counsellor.id, status=ReferralStatus.ACCEPTED,
                                           accepted_at=now_utc(), version=Referral.version + 1)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Refusal(_l("Someone else changed this referral a moment ago. Reload to see who has it."),
                      field="counsellor_id")
    db.session.refresh(referral)


def accept_referral(referral: Referral, *, by) -> None:
    if not policy.can_accept_referral(by, referral):
        raise Refusal(_l("This referral is no longer waiting in your branch's queue."))
    _give(referral, by, only_if_queued=True)
    record(by, "referral.accept", referral, member_id=referral.member_id)
    log.info("accepted %r by %r", referral, by)


def assign_referral(referral: Referral, counsellor: User, *, by) -> None:
    if not policy.can_assign_referral(by, referral):
        raise Refusal(_l("You may not assign this referral."), field="counsellor_id")
    if not policy.can_counsel_in(counsellor, referral):
        raise Refusal(_l("Choose an active counsellor of the member's branch."), field="counsellor_id")
    previous = referral.counsellor_id
    _give(referral, counsellor)
    record(by, "referral.assign", referral, member_id=referral.member_id, from_user=previous,
           to_user=counsellor.id)
    hand_over_referral(referral, previous, counsellor, by=by)
    log.info("assigned %r to %r by %r", referral, counsellor, by)


def close_referral(referral: Referral, *, by, outcome: str) -> None:
    if not policy.can_close_referral(by, referral):
        raise Refusal(_l("You may not close this referral."), field="outcome")
    if not (outcome or "").strip():
        raise Refusal(_l("Record the outcome before closing."), field="outcome")
    referral.status = ReferralStatus.CLOSED
    referral.closed_at = now_utc()
    referral.closed_by_id = by.id
    referral.outcome = outcome.strip()
    record(by, "referral.close", referral, member_id=referral.member_id)
    end_for_closed_referral(referral, by=by, why=_l("The referral was closed."))
    log.info("closed %r by %r", referral, by)


def log_session(referral: Referral, *, by, held_on, duration_minutes: int, mode, topic,
                confidential_notes: str, shareable_summary: str | None, next_session_on, risk: Risk
                ) -> CounsellingSession:
    if not policy.can_log_session(by, referral):
        raise Refusal(_l("Only the counsellor of an accepted referral logs its sessions."), field="held_on")
    if held_on > today():
        raise Refusal(_l("A session is logged after it took place."), field="held_on")
    if next_session_on is not None and next_session_on <= held_on:
        raise Refusal(_l("The next session must come after this one."), field="next_session_on")
    if db.session.scalar(select(CounsellingSession.id).where(  # the form sent twice (a double click, a reload)
            CounsellingSession.referral_id == referral.id, CounsellingSession.counsellor_id == by.id,
            CounsellingSession.held_on == held_on, CounsellingSession.confidential_notes == confidential_notes)
            .limit(1)):
        raise Refusal(_l("This session is logged already: the same day and the same notes."), field="held_on")
    session = CounsellingSession(referral_id=referral.id, counsellor_id=by.id, held_on=held_on,
                                 duration_minutes=duration_minutes, mode=mode, topic=topic,
                                 confidential_notes=confidential_notes, shareable_summary=shareable_summary or None,
                                 next_session_on=next_session_on, risk=risk)
    db.session.add(session)
    db.session.flush()
    if next_session_on is not None:
        db.session.add(FollowUp(due_on=next_session_on, assignee_id=by.id, member_id=referral.member_id,
                                kind=FollowUpKind.COUNSELLING, created_by_id=by.id))
    alert = _raise_alert(referral, session, by) if risk is Risk.HIGH else None
    record(by, "counselling.session_log", session, referral_id=referral.id, member_id=referral.member_id,
           risk=risk.value, alert_id=alert.id if alert else None)
    log.info("logged %r on %r by %r (risk %s)", session, referral, by, risk.value)
    return session


def _alert_followups(branch_id: int, member_id: int, by) -> list[FollowUp]:
    """One follow-up due today for every active supervisor of the branch."""
    supervisors = db.session.scalars(User.with_role(Role.SUPERVISOR).where(User.branch_id == branch_id))
    return [FollowUp(due_on=today(), assignee_id=s.id, member_id=member_id, kind=FollowUpKind.RISK_ALERT,
                     title=str(_l("High risk flagged in counselling: acknowledge the alert")),
                     created_by_id=by.id) for s in supervisors]


def _raise_alert(referral: Referral, session: CounsellingSession, by) -> RiskAlert:
    """Alert every active supervisor of the branch: the banner, and a follow-up due today."""
    alert = RiskAlert(session_id=session.id, branch_id=referral.branch_id, member_id=referral.member_id,
                      followups=_alert_followups(referral.branch_id, referral.member_id, by))
    db.session.add(alert)
    db.session.flush()
    record(by, "risk_alert.raise", alert, member_id=referral.member_id, session_id=session.id)
    return alert


def share_case(referral: Referral, counsellor: User, *, by) -> CaseShare:
    if not policy.can_share_with(by, referral, counsellor):
        raise Refusal(_l("Choose another active counsellor who does not have this case yet."), field="counsellor_id")
    share = CaseShare(referral=referral, counsellor_id=counsellor.id, shared_by_id=by.id)
    db.session.add(share)
    db.session.flush()
    record(by, "referral.share", referral, member_id=referral.member_id, counsellor_id=counsellor.id)
    log.info("shared %r with %r by %r", referral, counsellor, by)
    return share


def acknowledge_risk(alert: RiskAlert, *, by) -> None:
    if not policy.can_acknowledge_risk(by, alert):
        raise Refusal(_l("This alert is not waiting for you, or it is acknowledged already."))
    now = now_utc()
    done = db.session.execute(update(RiskAlert).where(RiskAlert.id == alert.id, RiskAlert.acknowledged_at.is_(None))
                              .values(acknowledged_at=now, acknowledged_by_id=by.id)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # another supervisor acknowledged it a moment ago: theirs stands
        raise Refusal(_l("This alert is not waiting for you, or it is acknowledged already."))
    db.session.refresh(alert)
    for followup in alert.followups:
        if followup.done_at is None:
            followup.done_at = now
            followup.done_by_id = by.id
            followup.outcome = str(_l("Alert acknowledged"))
    record(by, "risk_alert.acknowledge", alert, member_id=alert.member_id, session_id=alert.session_id)
    log.info("acknowledged %r by %r", alert, by)


def member_moved_branch(member, to_branch_id: int, *, by) -> None:
    """The case moved to another branch: its referral in progress and its unacknowledged risk alerts go with it,
    so that the new branch's counsellors find it in their queue and its supervisors are the ones alerted (the
    old branch's can no longer open the case). An accepted referral keeps its counsellor."""
    for referral in db.session.scalars(select(Referral).where(Referral.member_id == member.id,
                                                              Referral.status != ReferralStatus.CLOSED)):
        record(by, "referral.move_branch", referral, member_id=member.id, from_branch=referral.branch_id,
               to_branch=to_branch_id)
        referral.branch_id = to_branch_id
    for alert in db.session.scalars(select(RiskAlert).where(RiskAlert.member_id == member.id,
                                                            RiskAlert.acknowledged_at.is_(None))):
        end_followups([f for f in alert.followups if f.done_at is None], by=by,
                      why=_l("The case moved to another branch, whose supervisors were alerted."))
        alert.branch_id = to_branch_id
        alert.followups.extend(_alert_followups(to_branch_id, member.id, by))
    db.session.flush()
