"""Demo introductions at every stage of the pipeline, made through the real services so that
consents, history, follow-ups and audit entries are all there (called from ``flask seed-demo``).

Each pairing's story is told over weeks or months: every step runs on its own day (``crm.clock.as_of``),
and the volunteers do the follow-ups that fall due along the way. So the dashboard's days-in-stage and
monthly trends read like a real branch's, not like everything happened the moment the demo was seeded."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from crm import clock
from crm.demo import office_hours
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.followups.services import complete_followup
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
# The stages moved through after the introduction, on the way to each target stage.
PATHS = {Stage.FIRST_MEETING: [Stage.FIRST_MEETING], Stage.DATING: [Stage.FIRST_MEETING, Stage.DATING],
         Stage.RELATIONSHIP: [Stage.FIRST_MEETING, Stage.DATING, Stage.RELATIONSHIP],
         Stage.ENGAGED: [Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED],
         Stage.MARRIED: [Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED],
         Stage.CLOSED: [Stage.FIRST_MEETING, Stage.CLOSED]}
# Days from the step before to a step: fewest, most.
DAYS_BEFORE = {"answer": (1, 5), Stage.FIRST_MEETING: (4, 12), Stage.DATING: (7, 21),
               Stage.RELATIONSHIP: (20, 60), Stage.ENGAGED: (40, 120), Stage.MARRIED: (30, 90),
               Stage.CLOSED: (5, 20)}
MOVE_NOTES = ["双方见面后都有好感", "周末一起去了西湖边散步", "两人约好下周再见", "双方家长已见面",
              "电话回访，进展顺利", "", "女方希望慢慢了解"]
FOLLOWUP_OUTCOMES = ["电话回访，双方都觉得不错", "微信联系，约了下周再见面", "见面聊了近况，进展顺利",
                     "女方觉得还需要时间了解", "男方工作忙，约定月底再联系"]


def seed_pairings(rng, members) -> int:
    with current_app.test_request_context():
        return _seed(rng, members)


def _seed(rng, members) -> int:
    pool = [m for m in members if m.owner is not None and m.status is MemberStatus.ACTIVE and m.is_verified]
    men = [m for m in pool if m.gender is Gender.MALE]
    women = [m for m in pool if m.gender is Gender.FEMALE]
    # The longest stories go to the members longest on file: a marriage needs months since both joined.
    men.sort(key=lambda m: m.created_at)
    women.sort(key=lambda m: m.created_at)
    made = 0
    for (stage, how), a, b in zip(sorted(PLAN, key=_typical_days, reverse=True), men, women, strict=False):
        steps = _steps(rng, stage, how, a, b)
        moments = _moments(rng, [gap for gap, _step in steps], last_days_ago=_last_days_ago(rng, stage, how),
                           earliest=max(a.created_at, b.created_at) + timedelta(days=1))
        pairing = None
        for i, (moment, (_gap, step)) in enumerate(zip(moments, steps, strict=True)):
            with clock.as_of(moment):
                pairing = step(pairing)
            until = moments[i + 1] if i + 1 < len(moments) else clock.now_utc() - timedelta(days=3)
            do_followups_due(rng, pairing, until)
        made += 1
    return made


def _steps(rng, stage, how, a, b) -> list:
    """What happens to one demo pairing, in order: (days after the step before, the step). A step takes
    the pairing (None for the proposal) and returns it."""
    def propose(_pairing):
        return services.propose_pairing(a, b, a.owner, rng.choice(list(Source)),
                                        ask_now=stage is not Stage.PROPOSED)

    def answer(member, yes: bool, channel, shares):
        def step(pairing):
            services.record_consent(pairing, member, ConsentAnswer.YES if yes else ConsentAnswer.NO, channel,
                                    shares, member.owner)
            return pairing
        return _days(rng, "answer"), step

    def move(to):
        def step(pairing):
            pipeline.move(pairing, to, rng.choice([a.owner, b.owner]), note=rng.choice(MOVE_NOTES),
                          close_reason=how if to is Stage.CLOSED else None)
            return pairing
        return _days(rng, to), step

    steps = [(0, propose)]
    if stage is Stage.PROPOSED:
        return steps
    steps.append(answer(a, True, ConsentChannel.PHONE if how is not PairingCloseReason.DECLINED
                        else ConsentChannel.WECHAT, SHARES))
    if stage is Stage.AWAITING_CONSENT:
        return steps
    if how is PairingCloseReason.DECLINED:
        return [*steps, answer(b, False, ConsentChannel.PHONE, {})]
    steps.append(answer(b, True, ConsentChannel.IN_PERSON, {"share_wechat": True, "share_phone": rng.random() < 0.5}))
    return steps + [move(to) for to in PATHS.get(stage, [])]


def _typical_days(plan_item) -> int:
    stage, how = plan_item
    if stage in (Stage.PROPOSED, Stage.AWAITING_CONSENT) or how is PairingCloseReason.DECLINED:
        return 0
    return sum(sum(DAYS_BEFORE[to]) for to in PATHS.get(stage, []))


def _days(rng, step) -> int:
    return rng.randint(*DAYS_BEFORE[step])


def _last_days_ago(rng, stage, how) -> int:
    """How long ago a pairing's latest step was: requests still waiting are recent, except the overdue
    ones (asked more than CONSENT_OVERDUE_DAYS ago); the rest moved within the last month."""
    if how == "overdue":
        return current_app.config["CONSENT_OVERDUE_DAYS"] + 2
    if stage in (Stage.PROPOSED, Stage.AWAITING_CONSENT):
        return rng.randint(1, 4)
    return rng.randint(3, 30)


def _moments(rng, days_between: list[int], *, last_days_ago: int, earliest: datetime) -> list[datetime]:
    """When each step happened, at office hours, counted back from the last one. A story longer than the
    members have been on file is squeezed into the time since the later of them joined."""
    last = clock.now_utc() - timedelta(days=last_days_ago)
    span, wanted = (last - earliest).days, sum(days_between)
    scale = min(1.0, max(span, 0) / wanted) if wanted else 1.0
    day, days = last.date(), []
    for between in reversed(days_between):
        days.append(day)
        day -= timedelta(days=int(between * scale))  # rounded down: never before the earliest day
    moments = []
    for d in reversed(days):  # steps squeezed into one day still happen one after another
        moment = office_hours(rng, d)
        moments.append(max(moment, moments[-1] + timedelta(minutes=rng.randint(10, 90))) if moments else moment)
    return moments


def do_followups_due(rng, pairing, until: datetime) -> None:
    """The volunteers do the pairing's follow-ups that fell due before ``until``, each on its day. Doing a
    monthly one schedules the next, which is done in turn if it too fell due."""
    while True:
        due = db.session.scalars(select(FollowUp).where(
            FollowUp.pairing_id == pairing.id, FollowUp.done_at.is_(None),
            FollowUp.due_on < until.date()).order_by(FollowUp.due_on, FollowUp.id)).all()
        if not due:
            return
        for followup in due:
            with clock.as_of(office_hours(rng, followup.due_on)):
                complete_followup(followup, by=followup.assignee, outcome=rng.choice(FOLLOWUP_OUTCOMES))


def make_some_due(rng) -> None:
    """Each volunteer's first two open introduction follow-ups fall due today and a few days ago (never
    before they were made), so that every caseload's due-today and overdue panel has something to show.
    Called once every demo introduction is made (the events' ones too)."""
    open_followups = db.session.scalars(select(FollowUp).where(
        FollowUp.done_at.is_(None), FollowUp.pairing_id.is_not(None)).order_by(FollowUp.due_on, FollowUp.id)).all()
    seen: dict[int, int] = {}
    for followup in open_followups:
        n = seen[followup.assignee_id] = seen.get(followup.assignee_id, 0) + 1
        if n == 1:
            followup.due_on = clock.today()
        elif n == 2:
            made = followup.created_at.date()
            followup.due_on = max(made, clock.today() - timedelta(days=rng.randint(1, 6)))
