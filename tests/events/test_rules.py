"""Capacity, gender quota and waiting list: the one rule as a table, then promotion in order."""

from datetime import timedelta

import pytest

from crm.clock import as_of, now_utc
from crm.errors import Refusal
from crm.events import services
from crm.events.models import EventStatus, RegistrationStatus
from crm.members.models import Gender, MemberStatus
from tests.events.helpers import before_start, make_event
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
    with before_start(event):
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


@pytest.mark.parametrize("status", [EventStatus.HELD, EventStatus.CANCELLED])
def test_a_held_or_cancelled_event_cannot_be_edited_and_its_waiting_list_stays(db, status):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch, capacity=1)
    first, second = make_member(branch=supervisor.branch), make_member(branch=supervisor.branch)
    registered, waiting = services.register(event, first, supervisor), services.register(event, second, supervisor)
    event.status = status
    db.session.flush()
    data = {k: getattr(event, k) for k in services.EDITABLE}
    with pytest.raises(Refusal, match="can no longer be changed") as refused:
        services.update_event(event, supervisor, {**data, "capacity": 5, "title": "改了"})
    assert refused.value.field == "title"
    assert (event.capacity, event.title) == (1, data["title"])
    assert (registered.status, waiting.status) == (R, W)


def test_without_a_deadline_sign_up_closes_when_the_event_starts(db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, starts_at=now_utc() - timedelta(minutes=1),
                       ends_at=now_utc() + timedelta(hours=2))
    with pytest.raises(Refusal, match="has started") as refused:
        services.register(event, make_member(owner=volunteer), volunteer)
    assert refused.value.field == "member_id"
    assert event.registrations == []
    assert services.signup_refusal(event, event.starts_at - timedelta(seconds=1)) is None
    with before_start(event):
        assert services.register(event, make_member(owner=volunteer), volunteer).status is R


def test_check_in_is_open_on_the_events_day_in_local_time_only(db):
    supervisor = make_user("supervisor")
    start = (now_utc() + timedelta(days=30)).replace(hour=6, minute=0, second=0, microsecond=0)  # 14:00 Beijing
    event = make_event(supervisor.branch, starts_at=start, ends_at=start + timedelta(hours=3))
    reg = services.register(event, make_member(branch=supervisor.branch), supervisor)
    with pytest.raises(Refusal, match="only on the day") as refused:
        services.check_in(reg, supervisor)  # weeks before
    assert refused.value.field == "registration" and reg.status is R
    with as_of(start + timedelta(hours=10)), pytest.raises(Refusal):  # 00:00 Beijing the next day (UTC: same day)
        services.check_in(reg, supervisor)
    assert reg.status is R
    with as_of(start - timedelta(hours=7)):  # 23:00 UTC the day before, 07:00 Beijing on the day
        assert services.check_in(reg, supervisor) is True
    assert reg.status is RegistrationStatus.ATTENDED


@pytest.mark.parametrize("change", [{"status": MemberStatus.PAUSED}, {"status": MemberStatus.CLOSED},
                                    {"processing_consent": False}])
def test_a_freed_place_passes_over_a_waiting_member_who_could_not_sign_up_now(db, change):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, capacity=1)
    first, gone, third = (make_member(owner=volunteer) for _ in range(3))
    regs = [services.register(event, m, volunteer) for m in (first, gone, third)]
    for key, value in change.items():
        setattr(gone, key, value)
    db.session.flush()
    assert [r.member_id for r in services.cancel_registration(regs[0], volunteer)] == [third.id]
    assert (regs[1].status, regs[2].status) == (W, R)  # the ineligible one keeps their turn, should they return


def test_a_member_who_withdrew_consent_to_data_processing_cannot_sign_up(db):
    from crm.privacy.services import record_consent
    from crm.privacy.texts import Channel, Purpose

    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch)
    member = make_member(owner=volunteer)
    assert services.find_self(member.phone, member.id_last4) is member
    record_consent(member, Purpose.PROCESSING, False, Channel.PHONE, volunteer)
    db.session.flush()
    with pytest.raises(Refusal, match="withdrawn consent to data processing") as refused:
        services.register(event, member, volunteer)
    assert refused.value.field == "member_id" and event.registrations == []
    assert services.find_self(member.phone, member.id_last4) is None  # the public page: "not found", as for others


def test_an_edit_keeps_the_organising_branch_and_only_the_hosts_chosen(db):
    from tests.factories import make_branch

    supervisor, admin, partner = make_user("supervisor"), make_user("admin"), make_branch()
    event = make_event(supervisor.branch)
    data = {k: getattr(event, k) for k in services.EDITABLE}
    services.update_event(event, admin, data, [partner])
    assert event.host_ids == {supervisor.branch_id, partner.id}  # not the admin's own branch
    services.update_event(event, admin, data, [])
    assert event.host_ids == {supervisor.branch_id}
