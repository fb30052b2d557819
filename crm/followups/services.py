"""Follow-up workflows: create, complete with an outcome, the calendar token."""

import logging
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind

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


def reset_ics_token(user) -> str:
    """A new secret for the user's calendar feed; the old feed URL stops working at once."""
    user.ics_token = secrets.token_urlsafe(24)
    record(user, "followup.feed_reset", object_type="users", object_id=user.id)
    db.session.flush()
    return user.ics_token
