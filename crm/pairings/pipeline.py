"""The pairing pipeline: the one transitions table, who may move a pairing where, and the move.

Views and templates call only ``allowed_moves``, ``member_block`` and ``move``; nothing else assigns ``stage``.
"""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.auth import policy
from crm.clock import now_utc, today
from crm.errors import Refusal
from crm.extensions import db
from crm.members.models import CloseReason, MemberStatus
from crm.pairings import stage_counts
from crm.pairings.models import Pairing, PairingCloseReason, Stage, StageChange

log = logging.getLogger(__name__)

FORWARD = "forward"
CLOSE = "close"
REOPEN = "reopen"

_OPEN = [Stage.PROPOSED, Stage.AWAITING_CONSENT, Stage.INTRODUCED, Stage.FIRST_MEETING,
         Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED]
_FORWARD_ORDER = _OPEN + [Stage.MARRIED]


def _table() -> dict[Stage, dict[Stage, str]]:
    table: dict[Stage, dict[Stage, str]] = {}
    for i, stage in enumerate(_OPEN):
        table[stage] = {later: FORWARD for later in _FORWARD_ORDER[i + 1:]}
        table[stage][Stage.CLOSED] = CLOSE
    table[Stage.MARRIED] = {}
    # Only back to the stage it was closed from; ``move`` checks which one that was.
    table[Stage.CLOSED] = {stage: REOPEN for stage in _OPEN}
    return table


#: from stage -> {to stage: kind of move}. Forward moves may skip stages; ``closed`` from any
#: open stage; a closed pairing reopens (supervisors, with a reason) to the stage it left.
TRANSITIONS: dict[Stage, dict[Stage, str]] = _table()

#: Stages at which both members are out of the pool.
TAKEN = (Stage.RELATIONSHIP, Stage.ENGAGED)

_FOLLOWUP_KIND = {"introduced": "check_in", "first_meeting": "after_meeting",
                  "dating": "monthly", "relationship": "monthly"}


def stale_message():
    return _l("Someone else moved this introduction after you opened it. Reload to see where it "
              "stands now, then try again.")


def stage_before_close(pairing: Pairing) -> Stage | None:
    closing = [h for h in pairing.history if h.to_stage is Stage.CLOSED]
    return closing[-1].from_stage if closing else None


def refusal_for(pairing: Pairing, to: Stage, user, *, note: str = "", close_reason=None,
                checking_only: bool = False, may_move: bool | None = None):
    """Why ``user`` may not move ``pairing`` to ``to`` now, or None when the move is allowed.

    ``checking_only`` skips what the user supplies with the move (note, close reason), for
    deciding which buttons to show.
    """
    kind = TRANSITIONS[pairing.stage].get(to)
    if kind is None:
        return _l("An introduction cannot move from “%(from)s” to “%(to)s”.",
                  **{"from": pairing.stage.label, "to": to.label})
    if not (policy.can_move_pairing(user, pairing) if may_move is None else may_move):
        return _l("You may not move this introduction.")
    if kind == REOPEN:
        if not policy.can_reopen_pairing(user, pairing):
            return _l("Only a supervisor may reopen a closed introduction.")
        if to is not stage_before_close(pairing):
            return _l("A closed introduction can only be reopened to the stage it was closed from.")
        if not checking_only and not (note or "").strip():
            return _l("Give the reason for reopening this introduction.")
    if kind == CLOSE and not checking_only and close_reason is None:
        return _l("Choose why the introduction is closed.")
    if to.is_introduced_or_later and not pairing.both_consented:
        return _l("Both members must say yes before they are introduced.")
    if kind != CLOSE:
        return member_block(pairing, to)
    return None


def member_block(pairing: Pairing, to: Stage | None = None):
    """Why the members' case files keep ``pairing`` from moving on to ``to`` (to any stage when None), or None.
    Closing is never blocked.

    A member is in a relationship through one introduction at a time: while one of the two is (their status,
    which only this module sets and clears), no other introduction of theirs may move on or reopen.
    """
    if not TRANSITIONS[pairing.stage]:  # married: nothing to hold back
        return None
    if pairing.stage not in TAKEN and any(m.status is MemberStatus.IN_RELATIONSHIP for m in pairing.members):
        return _l("A member of this introduction is in a relationship through another introduction: until that "
                  "one closes, this one cannot move on or be reopened.")
    if (to is None or to.is_introduced_or_later) and any(m.status is MemberStatus.CLOSED for m in pairing.members):
        return _l("A member of this introduction has a closed case file.")
    return None


def allowed_moves(pairing: Pairing, user) -> list[Stage]:
    """The stages ``user`` may move ``pairing`` to now, in pipeline order."""
    may_move = policy.can_move_pairing(user, pairing)  # once, not per possible move (board: per card)
    return [to for to in TRANSITIONS[pairing.stage]
            if refusal_for(pairing, to, user, checking_only=True, may_move=may_move) is None]


def move(pairing: Pairing, to: Stage, by, note: str = "", close_reason: PairingCloseReason | None = None,
         *, expected_version: int | None = None, may_move: bool | None = None) -> StageChange:
    """Move ``pairing`` to ``to``: check, write the history, follow-ups, audit and member effects.

    Raises Refusal (nothing changed) when the move is not allowed, or when someone else moved
    the pairing since ``expected_version`` was read (the caller must roll back in that case).
    ``may_move``: decided by the caller (a move that another change entails), else the policy's.
    """
    if expected_version is not None and expected_version != pairing.version:
        raise Refusal(stale_message(), field="to")
    refusal = refusal_for(pairing, to, by, note=note, close_reason=close_reason, may_move=may_move)
    if refusal:
        raise Refusal(refusal, field="close_reason" if close_reason is None and to is Stage.CLOSED else "to")
    old = pairing.stage
    at = now_utc()
    change = StageChange(pairing=pairing, from_stage=old, to_stage=to, at=at, by_id=by.id,
                         note=(note or "").strip() or None,
                         close_reason=close_reason if to is Stage.CLOSED else None)
    db.session.add(change)
    pairing.stage = to
    pairing.stage_changed_at = at
    pairing.close_reason = close_reason if to is Stage.CLOSED else None
    try:  # the versioned UPDATE: if another request moved it first, no row matches
        db.session.flush()
    except StaleDataError:
        raise Refusal(stale_message(), field="to") from None
    stage_counts.moved(pairing, old, to)  # the board's column totals (crm.pairings.stage_counts)
    if old is Stage.CLOSED and not to.is_introduced_or_later:
        _ask_again(pairing, by)
    if to is Stage.AWAITING_CONSENT:
        for consent in pairing.consents:
            if consent.recorded_at is None:
                consent.asked_at = at
    record(by, "pairing.move", pairing, from_stage=old.value, to_stage=to.value,
           close_reason=close_reason.value if close_reason and to is Stage.CLOSED else None)
    _end_followups(pairing, to, by)
    _member_effects(pairing, old, to, by)
    _create_followups(pairing, to, by)
    db.session.flush()
    log.info("pairing %r moved %s -> %s by %r", pairing, old.value, to.value, by)
    return change


def close_open_introductions(member, by) -> None:
    """``member``'s case file closed: each of their introductions still on the way closes with it, so that the
    other member's volunteer is not left waiting. A relationship stays: the couple may well go on together
    (their volunteers close it if it ends). The note names no reason, since the other side's volunteer reads it."""
    from sqlalchemy import or_, select

    open_ones = db.session.scalars(select(Pairing).where(
        or_(Pairing.member_low_id == member.id, Pairing.member_high_id == member.id),
        Pairing.stage.in_([s for s in _OPEN if s not in TAKEN])).order_by(Pairing.id))
    for pairing in list(open_ones):
        move(pairing, Stage.CLOSED, by, note=str(_l("Closed with a member's case file.")),
             close_reason=PairingCloseReason.ENDED_BY_MEMBER, may_move=True)


def _end_followups(pairing: Pairing, to: Stage, by) -> None:
    """The follow-ups the earlier stage called for are answered by this move or no longer apply."""
    from crm.followups.services import end_for_pairing_move

    if to is Stage.CLOSED:
        why = _l("The introduction was closed.")
    else:
        why = _l("The introduction moved on to “%(stage)s”.", stage=to.label)
    end_for_pairing_move(pairing, by=by, why=why)


def _ask_again(pairing: Pairing, by) -> None:
    """Reopened before the introduction: a side that said no is asked again (its answer back to pending, so the
    page shows its form and the inbox lists it). The no it gave stays in the audit log, with who recorded it."""
    from crm.pairings.models import SHARE_FIELDS, ConsentAnswer

    for consent in pairing.consents:
        if consent.answer is not ConsentAnswer.NO:
            continue
        record(by, "pairing.consent_reset", pairing, member=consent.member_id, answer=consent.answer.value,
               channel=consent.channel.value if consent.channel else None, recorded_by=consent.recorded_by_id,
               recorded_at=consent.recorded_at.isoformat() if consent.recorded_at else None)
        consent.answer, consent.channel, consent.recorded_by_id, consent.recorded_at = (
            ConsentAnswer.PENDING, None, None, None)
        for name in SHARE_FIELDS:
            setattr(consent, name, False)


def _set_member_status(member, status, by, close_reason=None):
    if member.status is status:
        return
    record(by, "member.status", member, old=member.status.value, new=status.value,
           reason=close_reason.value if close_reason else None, via="pairing")
    member.status = status
    member.close_reason = close_reason
    if status is MemberStatus.CLOSED:
        from crm.members.services import case_closed

        case_closed(member, by)


def _member_effects(pairing: Pairing, old: Stage, to: Stage, by) -> None:
    for member in pairing.members:
        if to in TAKEN and member.status is not MemberStatus.CLOSED:
            _set_member_status(member, MemberStatus.IN_RELATIONSHIP, by)
        elif to is Stage.MARRIED:
            _set_member_status(member, MemberStatus.CLOSED, by, CloseReason.MARRIED)
        elif to is Stage.CLOSED and member.status is MemberStatus.IN_RELATIONSHIP and old in TAKEN:
            _set_member_status(member, MemberStatus.ACTIVE, by)


def _create_followups(pairing: Pairing, to: Stage, by) -> None:
    from crm.followups.models import FollowUpKind
    from crm.followups.services import create_followup

    days = current_app.config["PAIRING_FOLLOWUP_DAYS"].get(to.value)
    if days is None:
        return
    due = today() + timedelta(days=days)
    for member in pairing.members:
        create_followup(assignee=member.owner or by, member=member, pairing=pairing, due_on=due,
                        kind=FollowUpKind(_FOLLOWUP_KIND[to.value]), by=by)
