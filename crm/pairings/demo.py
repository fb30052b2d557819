"""Demo introductions at every stage of the pipeline, made through the real services so that
consents, history, follow-ups and audit entries are all there (called from ``flask seed-demo``)."""

from datetime import timedelta

from flask import current_app

from crm.clock import now_utc
from crm.members.models import Gender, MemberStatus
from crm.pairings import pipeline, services
from crm.pairings.models import ConsentAnswer, ConsentChannel, PairingCloseReason, Source, Stage

# (target stage, how it closes) — two of each, spread over the volunteers.
PLAN = [(Stage.PROPOSED, None), (Stage.AWAITING_CONSENT, None), (Stage.AWAITING_CONSENT, "overdue"),
        (Stage.INTRODUCED, None), (Stage.FIRST_MEETING, None), (Stage.DATING, None),
        (Stage.RELATIONSHIP, None), (Stage.ENGAGED, None), (Stage.MARRIED, None),
        (Stage.CLOSED, PairingCloseReason.DECLINED), (Stage.CLOSED, PairingCloseReason.NO_CHEMISTRY),
        (Stage.CLOSED, PairingCloseReason.LOST_CONTACT)] * 2
SHARES = {"share_full_name": True, "share_phone": True, "share_wechat": True}


def seed_pairings(rng, members) -> int:
    with current_app.test_request_context():
        return _seed(rng, members)


def _seed(rng, members) -> int:
    pool = [m for m in members if m.owner is not None and m.status is MemberStatus.ACTIVE and m.is_verified]
    men = [m for m in pool if m.gender is Gender.MALE]
    women = [m for m in pool if m.gender is Gender.FEMALE]
    rng.shuffle(men)
    rng.shuffle(women)
    made = 0
    for (stage, how), a, b in zip(PLAN, men, women, strict=False):
        pairing = services.propose_pairing(a, b, a.owner, rng.choice(list(Source)),
                                           ask_now=stage is not Stage.PROPOSED)
        days_ago = rng.randint(20, 200)
        _backdate(pairing, days_ago)
        if stage is Stage.AWAITING_CONSENT:
            services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.PHONE, SHARES, a.owner)
            if how == "overdue":
                pairing.consent_for(b).asked_at = now_utc() - timedelta(days=14)
        elif how is PairingCloseReason.DECLINED:
            services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.WECHAT, SHARES, a.owner)
            services.record_consent(pairing, b, ConsentAnswer.NO, ConsentChannel.PHONE, {}, b.owner)
        elif stage is not Stage.PROPOSED:
            services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.PHONE, SHARES, a.owner)
            services.record_consent(pairing, b, ConsentAnswer.YES, ConsentChannel.IN_PERSON,
                                    {"share_wechat": True, "share_phone": rng.random() < 0.5}, b.owner)
            path = {Stage.FIRST_MEETING: [Stage.FIRST_MEETING], Stage.DATING: [Stage.FIRST_MEETING, Stage.DATING],
                    Stage.RELATIONSHIP: [Stage.FIRST_MEETING, Stage.DATING, Stage.RELATIONSHIP],
                    Stage.ENGAGED: [Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED],
                    Stage.MARRIED: [Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED],
                    Stage.CLOSED: [Stage.FIRST_MEETING, Stage.CLOSED]}.get(stage, [])
            for to in path:
                pipeline.move(pairing, to, rng.choice([a.owner, b.owner]), note=rng.choice(MOVE_NOTES),
                              close_reason=how if to is Stage.CLOSED else None)
        made += 1
    _refresh_firsts()
    _make_some_due(rng)
    return made


def _refresh_firsts() -> None:
    """The history was back-dated after the services wrote it: recompute what is derived from it."""
    from crm.extensions import db
    from crm.pairings import firsts, next_moves
    from crm.stats import facts

    db.session.flush()
    firsts.rebuild()
    next_moves.rebuild()
    facts.rebuild()  # the dashboard's facts read both


def _make_some_due(rng) -> None:
    """Demo follow-ups due today or overdue, so that the dashboard panel has something to show."""
    from sqlalchemy import select

    from crm.clock import today
    from crm.extensions import db
    from crm.followups.models import FollowUp

    for i, followup in enumerate(db.session.scalars(select(FollowUp).order_by(FollowUp.id))):
        if i % 3 == 0:
            followup.due_on = today() - timedelta(days=rng.choice([0, 0, 1, 3, 6]))


def _backdate(pairing, days_ago: int) -> None:
    at = now_utc() - timedelta(days=days_ago)
    pairing.created_at = pairing.stage_changed_at = at
    for consent in pairing.consents:
        consent.asked_at = at
    for change in pairing.history:
        change.at = at


MOVE_NOTES = ["双方见面后都有好感", "周末一起去了西湖边散步", "两人约好下周再见", "双方家长已见面",
              "电话回访，进展顺利", "", "女方希望慢慢了解"]
