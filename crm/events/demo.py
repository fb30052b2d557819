"""Demo mixer events for `flask seed-demo`: one held (attendance, choices, mutual pairs), one open
for sign-up, one planned. Everything goes through crm.events.services, as in the app."""

from datetime import timedelta

from flask import current_app

from crm import clock
from crm.clock import now_utc
from crm.events import services
from crm.events.models import Event, EventStatus, RegistrationStatus
from crm.extensions import db
from crm.members.models import Gender, MemberStatus


def seed_events(rng, users, members) -> int:
    with current_app.test_request_context():
        return _seed(rng, users, members)


def _event(supervisor, days, **fields) -> Event:
    start = (now_utc() + timedelta(days=days)).replace(hour=6, minute=0, second=0, microsecond=0)  # 14:00 Beijing
    event = Event(branch_id=supervisor.branch_id, created_by_id=supervisor.id, starts_at=start,
                  ends_at=start + timedelta(hours=3), status=EventStatus.OPEN, **fields)
    event.hosts = [supervisor.branch]
    db.session.add(event)
    db.session.flush()
    return event


def _pool(members, branch_id):
    from crm.pairings.models import Pairing

    paired = {i for row in db.session.execute(db.select(Pairing.member_low_id, Pairing.member_high_id)) for i in row}
    return [m for m in members if m.branch_id == branch_id and m.owner is not None and m.id not in paired
            and m.status is MemberStatus.ACTIVE and m.is_verified and m.erased_at is None]


def _seed(rng, users, members) -> int:
    from crm.pairings import pipeline
    from crm.pairings.demo import do_followups_due
    from crm.pairings.models import Stage

    supervisor = next(u for u in users if u.username == "supervisor")
    pool = _pool(members, supervisor.branch_id)
    men = [m for m in pool if m.gender is Gender.MALE][:9]
    women = [m for m in pool if m.gender is Gender.FEMALE][:9]

    held = _event(supervisor, -21, title="西湖城市漫步联谊会", place="杭州市西湖区 湖滨公园集合",
                  description="沿湖漫步、分组小游戏，结束时填写缘分意向卡。", capacity=20, max_gender_percent=60)
    # Each part of the held event on its day: sign-ups the week before, check-in at the door, the choice
    # cards entered the day after, and one pair dating a fortnight later.
    with clock.as_of(held.starts_at - timedelta(days=7)):
        regs = [services.register(held, m, m.owner) for m in men + women]
    came = [r for r in regs if rng.random() < 0.8 or r.member in (men[:3] + women[:3])]
    with clock.as_of(held.starts_at + timedelta(minutes=10)):
        for reg in came:
            services.check_in(reg, supervisor)
    with clock.as_of(held.ends_at):
        services.mark_held(held, supervisor)
    attended = {r.member_id: r for r in regs if r.status is RegistrationStatus.ATTENDED}
    # Three mutual pairs, and some one-sided choices that stay with the chooser's side.
    wishes = {}
    for man, woman in zip(men[:3], women[:3], strict=False):
        wishes.setdefault(man.id, []).append(woman)
        wishes.setdefault(woman.id, []).append(man)
    for member in (men + women)[3:]:
        others = [m for m in (women if member.gender is Gender.MALE else men) if m.id in attended]
        if member.id in attended and others and rng.random() < 0.6:
            wishes.setdefault(member.id, []).append(rng.choice(others))
    made = []
    with clock.as_of(held.starts_at + timedelta(days=1)):
        for chooser_id, chosen in wishes.items():
            reg = attended[chooser_id]
            numbers = [attended[m.id].badge_number for m in chosen if m.id in attended]
            made += services.set_choices(held, reg, numbers, reg.member.owner, 5)
    if made:  # one pair has since started dating
        with clock.as_of(held.starts_at + timedelta(days=14)):
            pipeline.move(made[0], Stage.DATING, made[0].member_a.owner)
    for pairing in made:
        do_followups_due(rng, pairing, until=now_utc() - timedelta(days=3))

    upcoming = _event(supervisor, 14, title="七夕滑雪联谊日", place="张家口市崇礼区 云顶滑雪场",
                      description="大巴统一接送，含雪具和午餐。", capacity=40, max_gender_percent=60,
                      signup_deadline=now_utc() + timedelta(days=10), age_min=22, age_max=40)
    for member in _pool(members, supervisor.branch_id)[:6]:
        if services.eligibility_refusal(upcoming, member) is None:
            services.register(upcoming, member, member.owner)
    planned = _event(supervisor, 45, title="“8分钟约会”交友沙龙", place="杭州市总工会职工之家",
                     capacity=24, max_gender_percent=50, occupation_category="engineering")
    planned.status = EventStatus.PLANNED
    db.session.flush()
    return len(made)
