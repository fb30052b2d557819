"""Follow-up workflows: create, complete with an outcome, the calendar token."""

import logging
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.followups.models import COUNSELLING_KINDS, FollowUp, FollowUpKind

log = logging.getLogger(__name__)


def create_followup(*, assignee, due_on: date, kind: FollowUpKind, by, member=None, pairing=None,
                    title: str | None = None) -> FollowUp:
    if member is None and pairing is None:
        raise Refusal(_l("A follow-up is about a member or an introduction."), field="member_id")
    followup = FollowUp(assignee=assignee, due_on=due_on, kind=kind, member=member, pairing=pairing,
                        title=title or None, created_by_id=getattr(by, "id", None))
    db.session.add(followup)
    db.session.flush()
    record(by, "followup.create", followup, assignee=assignee.id, due_on=due_on.isoformat(),
           kind=kind.value, member=getattr(member, "id", None), pairing=getattr(pairing, "id", None))
    return followup


def complete_followup(followup: FollowUp, *, by, outcome: str, expected_version: int | None = None,
                      reapply: bool = False) -> FollowUp | None:
    """Mark it done with what came of it. A monthly follow-up of a couple still dating or in a
    relationship schedules the next one; that one is returned.

    With ``expected_version``, a follow-up changed since that version raises StaleDataError (the view shows
    both versions). ``reapply``: the user saw the conflict and saves their outcome over the saved one of a
    follow-up someone else already completed (nothing is scheduled again)."""
    from crm.pairings.models import Stage

    if expected_version is not None and expected_version != followup.version:
        raise StaleDataError(f"follow-up {followup.id} is at version {followup.version}, not {expected_version}")
    if followup.done_at is not None and not reapply:
        raise Refusal(_l("This follow-up is already done."), field="outcome")
    if followup.kind is FollowUpKind.RISK_ALERT:  # done means acknowledged: the alert must not stay open unseen
        raise Refusal(_l("This follow-up is done when the alert is acknowledged under Risk alerts."), field="outcome")
    if not (outcome or "").strip():
        raise Refusal(_l("Write down what came of it."), field="outcome")
    if followup.done_at is not None:  # re-applied over someone else's completion
        followup.done_by_id = by.id
        followup.outcome = outcome.strip()
        record(by, "followup.complete", followup, reapplied=True)
        db.session.flush()
        return None
    followup.done_at = now_utc()
    followup.done_by_id = by.id
    followup.outcome = outcome.strip()
    record(by, "followup.complete", followup)
    log.info("follow-up %r done by %r", followup, by)
    pairing = followup.pairing
    if (followup.kind is FollowUpKind.MONTHLY and pairing is not None
            and pairing.stage in (Stage.DATING, Stage.RELATIONSHIP)):
        days = current_app.config["PAIRING_FOLLOWUP_DAYS"].get(pairing.stage.value, 30)
        return create_followup(assignee=followup.assignee, due_on=followup.done_at.date() + timedelta(days=days),
                               kind=FollowUpKind.MONTHLY, by=by, member=followup.member, pairing=pairing)
    db.session.flush()
    return None


# --- Follow-ups that a change of the case makes obsolete or hands to someone else ------------------------------
# Each of these is called by the change that causes it (crm.pairings.pipeline, crm.members.services,
# crm.counselling.services), so a follow-up never waits on a closed case or with someone who lost the case.

def _open(*criteria):
    return list(db.session.scalars(select(FollowUp).where(FollowUp.done_at.is_(None), *criteria)
                                   .order_by(FollowUp.id)))


def _casework():
    return FollowUp.kind.not_in(COUNSELLING_KINDS)


def end_followups(followups: list[FollowUp], *, by, why) -> None:
    """Done now, by ``by``, with ``why`` as the outcome: nothing is left to do (nothing is scheduled again)."""
    now = now_utc()
    for followup in followups:
        followup.done_at, followup.done_by_id, followup.outcome = now, by.id, str(why)
        record(by, "followup.end", followup, reason=str(why))
    db.session.flush()


def _hand_over(followups: list[FollowUp], to_user, *, by) -> None:
    for followup in followups:
        record(by, "followup.hand_over", followup, from_user=followup.assignee_id, to_user=to_user.id)
        followup.assignee_id = to_user.id
    db.session.flush()


def end_for_pairing_move(pairing, *, by, why) -> None:
    """The pairing moved on: the follow-ups its earlier stage called for have been answered or no longer apply
    (the new stage makes its own)."""
    end_followups(_open(FollowUp.pairing_id == pairing.id), by=by, why=why)


def end_for_closed_case(member, *, by, why) -> None:
    """The case file closed: its caseworkers' follow-ups end. Counselling's own (the next session, an alert to
    acknowledge) stay: they end with the referral or the alert."""
    end_followups(_open(FollowUp.member_id == member.id, _casework()), by=by, why=why)


def hand_over_case(member, from_user_id: int | None, to_user, *, by) -> None:
    """The case has a new owner: the old owner's open follow-ups on it go with it (another user's stay theirs)."""
    if from_user_id is not None:
        _hand_over(_open(FollowUp.member_id == member.id, FollowUp.assignee_id == from_user_id, _casework()),
                   to_user, by=by)


def end_for_closed_referral(referral, *, by, why) -> None:
    end_followups(_open(FollowUp.member_id == referral.member_id, FollowUp.assignee_id == referral.counsellor_id,
               FollowUp.kind == FollowUpKind.COUNSELLING), by=by, why=why)


def hand_over_referral(referral, from_user_id: int | None, to_user, *, by) -> None:
    """The referral has a new counsellor: the planned sessions' follow-ups go to them."""
    if from_user_id is not None:
        _hand_over(_open(FollowUp.member_id == referral.member_id, FollowUp.assignee_id == from_user_id,
                         FollowUp.kind == FollowUpKind.COUNSELLING), to_user, by=by)


def reset_ics_token(user) -> str:
    """A new secret for the user's calendar feed; the old feed URL stops working at once."""
    user.ics_token = secrets.token_urlsafe(24)
    record(user, "followup.feed_reset", object_type="users", object_id=user.id)
    db.session.flush()
    return user.ics_token
