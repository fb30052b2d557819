"""Capacity, gender quota and waiting list: the one rule as a table, then promotion in order."""

from datetime import timedelta

import pytest

from crm.clock import now_utc
from crm.errors import Refusal
from crm.events import services
from crm.events.models import EventStatus, RegistrationStatus
from crm.members.models import Gender, MemberStatus
from tests.events.helpers import make_event
from tests.factories import make_member, make_user

M, F = Gender.MALE, Gender.FEMALE
R, W = RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED


@pytest.mark.parametrize("capacity, percent, held, gender, expected", [
    (10, None, {}, M, R),                 # empty event
    (10, None, {M: 9}, M, R),             # last place, no quota
    (10, None, {M: 10}, F, W),            # full
    (10, None, {M: 6, F: 4}, F, W),       # full, mixed
    (10, 60, {M: 5}, M, R),               # under 60% of 10 = 6
    (10, 60, {M: 6}, M, W),               # quota reached for men
    (10, 60, {M: 6}, F, R),               # women still have places
    (10, 60, {M: 6, F: 3}, F, R),         # last place goes to a woman
    (10, 60, {M: 6, F: 4}, F, W),         # full
    (10, 50, {F: 5}, F, W),               # exact half
    (7, 60, {M: 4}, M, W),                # 60% of 7 rounds down to 4
    (7, 60, {F: 3}, F, R),
    (1, 100, {}, F, R),                   # 100% = no quota in effect
    (3, 50, {M: 1}, M, W),                # 50% of 3 = 1
])
def test_place_for_table(capacity, percent, held, gender, expected):
    assert services.place_for(capacity, percent, held, gender) is expected


@pytest.fixture
def scene(db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, capacity=4, max_gender_percent=50)
    return volunteer, event


def _member(volunteer, gender, **kw):
    return make_member(owner=volunteer, gender=gender, **kw)


def test_sign_ups_fill_quota_then_waitlist_and_promote_in_order(scene, db):
    volunteer, event = scene
    men = [_member(volunteer, M) for _ in range(4)]
    women = [_member(volunteer, F) for _ in range(3)]
    regs = {m.id: services.register(event, m, volunteer) for m in men + women}
    assert [regs[m.id].status for m in men] == [R, R, W, W]
    assert [regs[w.id].status for w in women] == [R, R, W]
    assert [regs[m.id].waitlist_position for m in men[2:]] == [1, 2]
    # A woman cancels: the place is a woman's (men are at their quota) -> the waiting woman, not men[2].
    promoted = services.cancel_registration(regs[women[0].id], volunteer)
    assert [r.member_id for r in promoted] == [women[2].id]
    # A man cancels: the first waiting man gets it.
    promoted = services.cancel_registration(regs[men[0].id], volunteer)
    assert [r.member_id for r in promoted] == [men[2].id]
    assert regs[men[3].id].status is W


def test_raising_capacity_promotes_and_lowering_below_held_is_refused(scene, db):
    volunteer, event = scene
    people = [_member(volunteer, g) for g in (M, M, F, F, M, F)]
    regs = [services.register(event, p, volunteer) for p in people]
    assert [r.status for r in regs] == [R, R, R, R, W, W]
    data = {k: getattr(event, k) for k in services.EDITABLE}
    supervisor = make_user("supervisor", branch=volunteer.branch)
    with pytest.raises(Refusal) as refused:
        services.update_event(event, supervisor, {**data, "capacity": 3})
    assert refused.value.field == "capacity"
    services.update_event(event, supervisor, {**data, "capacity": 6})
    assert [r.status for r in regs] == [R, R, R, R, R, R]


def test_quota_change_promotes(scene, db):
    volunteer, event = scene
    people = [_member(volunteer, M) for _ in range(3)]
    regs = [services.register(event, p, volunteer) for p in people]
    assert [r.status for r in regs] == [R, R, W]
    supervisor = make_user("supervisor", branch=volunteer.branch)
    data = {k: getattr(event, k) for k in services.EDITABLE}
    services.update_event(event, supervisor, {**data, "max_gender_percent": 75})
    assert [r.status for r in regs] == [R, R, R]
    with pytest.raises(Refusal):
        services.update_event(event, supervisor, {**data, "max_gender_percent": 50})


@pytest.mark.parametrize("change, message", [
    ({"status": MemberStatus.PAUSED}, "active"),
    ({"verified": False}, "active"),
    ({"employer_verified_at": None}, "verified"),
    ({"occupation_category": "finance"}, "occupation"),
    ({"birth_date": (now_utc() - timedelta(days=365 * 45)).date()}, "aged"),
])
def test_ineligible_members_are_refused_clearly(db, change, message):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, occupation_category="engineering", age_min=22, age_max=40)
    member = make_member(owner=volunteer, **change)
    with pytest.raises(Refusal) as refused:
        services.register(event, member, volunteer)
    assert message in str(refused.value.message)
    assert event.registrations == []


def test_only_members_one_looks_after_and_open_events_before_the_deadline(db):
    volunteer, other = make_user("volunteer"), make_user("volunteer")
    event = make_event(volunteer.branch, signup_deadline=now_utc() - timedelta(hours=1))
    with pytest.raises(Refusal, match="look after"):
        services.register(event, make_member(owner=other), volunteer)
    with pytest.raises(Refusal, match="deadline"):
        services.register(event, make_member(owner=volunteer), volunteer)
    event.signup_deadline, event.status = None, EventStatus.PLANNED
    with pytest.raises(Refusal, match="not open"):
        services.register(event, make_member(owner=volunteer), volunteer)


def test_registering_twice_is_refused_and_again_after_cancelling_is_allowed(db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch)
    member = make_member(owner=volunteer)
    reg = services.register(event, member, volunteer)
    with pytest.raises(Refusal, match="already"):
        services.register(event, member, volunteer)
    services.cancel_registration(reg, volunteer)
    again = services.register(event, member, volunteer)
    assert again.id == reg.id and again.status is R


def test_mark_held_turns_the_absent_into_no_shows(db):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch, starts_at=now_utc() - timedelta(hours=2), ends_at=now_utc())
    a, b = make_member(owner=None, branch=supervisor.branch), make_member(branch=supervisor.branch)
    ra, rb = services.register(event, a, supervisor), services.register(event, b, supervisor)
    assert services.check_in(ra, supervisor) is True
    assert services.check_in(ra, supervisor) is False  # idempotent
    assert services.mark_held(event, supervisor) == 1
    assert (ra.status, rb.status) == (RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)
    assert event.status is EventStatus.HELD


def test_mark_held_refused_before_the_start(db):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch)
    with pytest.raises(Refusal, match="not started"):
        services.mark_held(event, supervisor)
