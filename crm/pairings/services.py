"""Introductions: propose a pairing, record each side's consent, overdue consent requests.

Services flush and never commit; the view commits once. Stage changes go through the pipeline.
"""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from crm.audit.services import record
from crm.auth import policy
from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.pairings import pipeline, stage_counts
from crm.pairings.models import (
    SHARE_FIELDS,
    ConsentAnswer,
    ConsentChannel,
    Pairing,
    PairingCloseReason,
    PairingConsent,
    Source,
    Stage,
    StageChange,
)

log = logging.getLogger(__name__)


def existing_pairing(a_id: int, b_id: int) -> Pairing | None:
    low, high = Pairing.ordered_ids(a_id, b_id)
    return db.session.scalars(select(Pairing).where(Pairing.member_low_id == low,
                                                    Pairing.member_high_id == high)).first()


def proposal_refusal(a, b, by) -> str | None:
    if not policy.can_edit_member(by, a):
        return _l("You can only propose introductions for members you look after.")
    if a.id == b.id:
        return _l("Choose another member.")
    allowed = policy.proposable_branch_ids(by)
    if allowed is not None and b.branch_id not in allowed:
        return _l("This member belongs to a branch you cannot propose to.")
    if not (a.shares_profile and b.shares_profile):
        return _l("A member who has withdrawn consent to data processing or to sharing their profile cannot be "
                  "proposed.")
    if not (a.can_be_introduced and b.can_be_introduced):
        return _l("Both members must be verified and active.")
    if a.gender is b.gender:
        return _l("These two members cannot be introduced to each other.")
    if existing_pairing(a.id, b.id) is not None:
        return _l("These two members have already been introduced once; a pair is never proposed twice.")
    return None


def propose_pairing(a, b, by, source: Source = Source.MANUAL, *, ask_now: bool = True) -> Pairing:
    """Propose introducing member ``a`` (``by``'s side) to ``b``. Both consents start pending;
    the stage is ``awaiting_consent`` when the members are asked at once, else ``proposed``."""
    refusal = proposal_refusal(a, b, by)
    if refusal:
        raise Refusal(refusal, field="member_id")
    low, high = (a, b) if a.id < b.id else (b, a)
    at = now_utc()
    pairing = Pairing(member_a=low, member_b=high, proposed_by_id=by.id, source=source,
                      stage=Stage.AWAITING_CONSENT if ask_now else Stage.PROPOSED,
                      stage_changed_at=at, created_at=at)
    pairing.consents = [PairingConsent(member=m, asked_at=at) for m in (low, high)]
    db.session.add(pairing)
    db.session.flush()
    db.session.add(StageChange(pairing=pairing, from_stage=None, to_stage=pairing.stage, at=at, by_id=by.id))
    stage_counts.created(pairing)  # the board's column totals
    record(by, "pairing.propose", pairing, source=source.value, members=[low.id, high.id])
    db.session.flush()
    log.info("pairing %r proposed by %r", pairing, by)
    return pairing


def record_consent(pairing: Pairing, member, answer: ConsentAnswer, channel: ConsentChannel,
                   shares: dict[str, bool], by) -> PairingConsent:
    """Record ``member``'s answer, once: an answer already recorded (by a form opened before it was) is refused.
    A no closes the pairing as declined; the second yes introduces."""
    if not policy.can_record_consent(by, pairing, member):
        raise Refusal(_l("You can only record the answer of a member you look after."), field="answer")
    if pairing.stage not in (Stage.PROPOSED, Stage.AWAITING_CONSENT):
        raise Refusal(_l("Answers are recorded before the introduction; this one is past that."),
                      field="answer")
    if answer is ConsentAnswer.PENDING:
        raise Refusal(_l("Record yes or no."), field="answer")
    consent = pairing.consent_for(member)
    db.session.refresh(consent, with_for_update=True)  # as stored now, and held to the commit (PostgreSQL)
    if consent.answer is not ConsentAnswer.PENDING:  # a form opened before someone else recorded it
        raise Refusal(_l("Someone else recorded this answer (“%(answer)s”) after you opened the page; nothing "
                         "was changed. Reload to see it.", answer=consent.answer.label), field="answer")
    consent.answer = answer
    consent.channel = channel
    consent.recorded_by_id = by.id
    consent.recorded_at = now_utc()
    for name in SHARE_FIELDS:
        setattr(consent, name, bool(shares.get(name)) and answer is ConsentAnswer.YES)
    record(by, "pairing.consent", pairing, member=member.id, answer=answer.value, channel=channel.value,
           shares=[n for n in SHARE_FIELDS if getattr(consent, n)])
    log.info("consent %r recorded by %r", consent, by)
    if answer is ConsentAnswer.NO:
        pipeline.move(pairing, Stage.CLOSED, by, close_reason=PairingCloseReason.DECLINED)
    elif pairing.both_consented:
        pipeline.move(pairing, Stage.INTRODUCED, by)
    else:
        db.session.flush()
    return consent


def overdue_before():
    return now_utc() - timedelta(days=current_app.config["CONSENT_OVERDUE_DAYS"])


def consent_is_overdue(pairing: Pairing, consent: PairingConsent) -> bool:
    return (pairing.stage is Stage.AWAITING_CONSENT and consent.answer is ConsentAnswer.PENDING
            and consent.asked_at < overdue_before())


def overdue_consent_clause(consent=PairingConsent, pairing=Pairing):
    """``consent_is_overdue`` in SQL. ``pairing=None``: the pairing's stage is read from the consent's copy
    of it (crm.pairings.consent_stage), so the statement need not join the pairing."""
    stage = consent.pairing_stage if pairing is None else pairing.stage
    return and_(stage == Stage.AWAITING_CONSENT, consent.answer == ConsentAnswer.PENDING,
                consent.asked_at < overdue_before())


def waiting_for(user):
    """Inbox "Waiting for my answer": pairings where a member ``user`` looks after has not answered.

    Also lists, for supervisors, the overdue requests of their branch."""
    from crm.members.models import Member

    mine = aliased(Member)
    owned = and_(mine.owner_id == user.id)
    conditions = [owned]
    if policy.can_view_team(user):
        conditions.append(and_(mine.branch_id == user.branch_id, overdue_consent_clause()))
    stmt = (select(Pairing, PairingConsent).join(PairingConsent, PairingConsent.pairing_id == Pairing.id)
            .join(mine, mine.id == PairingConsent.member_id)
            .where(Pairing.stage.in_([Stage.PROPOSED, Stage.AWAITING_CONSENT]),
                   PairingConsent.answer == ConsentAnswer.PENDING, or_(*conditions))
            .order_by(PairingConsent.asked_at))
    return list(db.session.execute(stmt).all())


def create_from_mutual_choice(a, b, by, *, event=None) -> tuple[Pairing, bool]:
    """Two members chose each other at a mixer event (crm.events): the choice is each side's consent.

    Creates the pairing with source ``event``, both answers yes (in person), and moves it to
    ``introduced`` through the pipeline, so the history reads created -> introduced. When the two
    already have a pairing (the pair is unique), returns it unchanged. Returns (pairing, created).
    """
    found = existing_pairing(a.id, b.id)
    if found is not None:
        return found, False
    if a.gender is b.gender:
        raise Refusal(_l("These two members cannot be introduced to each other."), field="badges")
    low, high = (a, b) if a.id < b.id else (b, a)
    at = now_utc()
    pairing = Pairing(member_a=low, member_b=high, proposed_by_id=by.id, source=Source.EVENT,
                      stage=Stage.AWAITING_CONSENT, stage_changed_at=at, created_at=at)
    pairing.consents = [PairingConsent(member=m, asked_at=at, answer=ConsentAnswer.YES,
                                       channel=ConsentChannel.IN_PERSON, recorded_by_id=by.id, recorded_at=at)
                        for m in (low, high)]
    db.session.add(pairing)
    db.session.flush()
    db.session.add(StageChange(pairing=pairing, from_stage=None, to_stage=Stage.AWAITING_CONSENT, at=at,
                               by_id=by.id, note=f"event #{event.id}" if event is not None else None))
    stage_counts.created(pairing)  # the board's column totals
    record(by, "pairing.propose", pairing, source=Source.EVENT.value, members=[low.id, high.id],
           event=getattr(event, "id", None))
    db.session.flush()
    pipeline.move(pairing, Stage.INTRODUCED, by)
    log.info("pairing %r from mutual choice by %r", pairing, by)
    return pairing, True
