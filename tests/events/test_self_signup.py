"""Members signing themselves up on the public event page: the same rule as a volunteer's sign-up
(places, waiting list, eligibility), an answer that never tells whether a phone number belongs to a
member, rate limits, the honeypot, cancelling (the waiting list moves up), bad input never a 500."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.clock import now_utc
from crm.events import services
from crm.events.models import EventRegistration, EventStatus, RegistrationChannel, RegistrationStatus
from crm.members.models import Gender
from tests import dbstate
from tests.events.helpers import make_event
from tests.factories import make_member, make_user

NOT_FOUND = "We could not find your registration details"


@pytest.fixture
def scene(db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, capacity=1, description="滑雪一日游")
    ann = make_member(owner=volunteer, name="李安", gender=Gender.FEMALE, phone="13900000001")
    bea = make_member(owner=volunteer, name="王蓓", gender=Gender.FEMALE, phone="13900000002")
    db.session.commit()
    return {"event": event, "volunteer": volunteer, "ann": ann, "bea": bea}


def _url(event, tail=""):
    return f"/events/join/{event.public_token}{tail}"


def _post(client, csrf, event, member=None, phone=None, last4=None, tail="", **extra):
    data = {"csrf_token": csrf(), "phone": phone or member.phone, "id_last4": last4 or member.id_last4, **extra}
    return client.post(_url(event, tail), data=data)


def _regs(db):
    return db.session.scalars(select(EventRegistration).order_by(EventRegistration.id)).all()


def test_public_page_shows_the_event_and_nothing_about_who_registered(client, db, scene):
    services.register(scene["event"], scene["bea"], scene["volunteer"])
    db.session.commit()
    page = client.get(_url(scene["event"])).get_data(as_text=True)
    assert "七夕联谊会" in page and "西湖文化广场" in page and "滑雪一日游" in page
    assert scene["bea"].name not in page and "taken" not in page and "waiting" not in page
    assert 'name="phone"' in page and 'name="id_last4"' in page


def test_sign_up_registered_then_waitlisted_through_the_same_rule(client, db, csrf, scene):
    response = _post(client, csrf, scene["event"], scene["ann"])
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    reg = _regs(db)[0]
    assert reg.status is RegistrationStatus.REGISTERED and reg.registered_by_id is None
    assert reg.channel is RegistrationChannel.SELF
    assert "You are signed up" in done and f"Your number: {reg.badge_number}" in done
    # The one place is taken: Bea waits.
    response = _post(client, csrf, scene["event"], scene["bea"])
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _regs(db)[1].status is RegistrationStatus.WAITLISTED
    assert "waiting list, number 1 in line" in done
    # Audit: the sign-up is recorded with ids only, no phone or ID characters.
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.register")).all()
    assert len(entries) == 2 and all(e.actor_id is None and e.detail["channel"] == "self" for e in entries)
    assert not any(scene["ann"].phone in str(e.detail) or scene["ann"].id_last4 in str(e.detail.values())
                   for e in entries)
    # The result is shown once (a shared phone does not show it to the next person).
    assert client.get(_url(scene["event"], "/done")).status_code == 302


def test_already_registered_is_said_and_nothing_changes(client, db, csrf, scene):
    services.register(scene["event"], scene["ann"], scene["volunteer"])
    db.session.commit()
    before = dbstate.contents()
    response = _post(client, csrf, scene["event"], scene["ann"])
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already signed up" in done
    assert {k: v for k, v in dbstate.contents().items() if "rate_limit" not in k} == \
        {k: v for k, v in before.items() if "rate_limit" not in k}


def test_unknown_phone_and_wrong_last4_get_the_same_answer(client, db, csrf, scene):
    unknown = _post(client, csrf, scene["event"], phone="13700000009", last4="1234")
    wrong = _post(client, csrf, scene["event"], scene["ann"], last4="999X")  # the factory's are digits only
    assert unknown.status_code == wrong.status_code == 422

    def message(response):
        page = response.get_data(as_text=True)
        return page[page.index('id="join-refused"'):].split("</p>")[0]

    assert NOT_FOUND in message(unknown) and message(unknown) == message(wrong)
    assert _regs(db) == []


def test_unverified_member_gets_the_not_found_answer_too(client, db, csrf, scene):
    carla = make_member(owner=scene["volunteer"], gender=Gender.FEMALE, phone="13900000003", verified=False)
    db.session.commit()
    response = _post(client, csrf, scene["event"], carla)
    assert response.status_code == 422 and NOT_FOUND in response.get_data(as_text=True)
    assert _regs(db) == []


def test_ineligible_member_is_refused_with_the_reason(client, db, csrf, scene):
    event = scene["event"]
    event.occupation_category = "education"  # Ann works in engineering
    db.session.commit()
    response = _post(client, csrf, event, scene["ann"])
    assert response.status_code == 422 and "another occupation group" in response.get_data(as_text=True)
    assert _regs(db) == []


def test_deadline_passed_and_closed_event_refuse_and_planned_event_is_not_found(client, db, csrf, scene):
    event = scene["event"]
    event.signup_deadline = now_utc() - timedelta(hours=1)
    db.session.commit()
    assert "deadline has passed" in client.get(_url(event)).get_data(as_text=True)
    response = _post(client, csrf, event, scene["ann"])
    assert response.status_code == 422 and "deadline has passed" in response.get_data(as_text=True)
    event.signup_deadline = None
    event.status = EventStatus.CLOSED
    db.session.commit()
    response = _post(client, csrf, event, scene["ann"])
    assert response.status_code == 422 and "not open for sign-up" in response.get_data(as_text=True)
    event.status = EventStatus.PLANNED
    db.session.commit()
    assert client.get(_url(event)).status_code == 404
    assert _post(client, csrf, event, scene["ann"]).status_code == 404
    assert client.get("/events/join/no-such-token").status_code == 404
    assert _regs(db) == []


def test_rate_limited_per_phone_and_per_ip(app, client, db, csrf, scene, monkeypatch):
    monkeypatch.setitem(app.config, "EVENT_SELF_PHONE_LIMIT", 2)
    for _ in range(2):
        assert _post(client, csrf, scene["event"], scene["ann"], last4="0000").status_code == 422
    # The right last 4 now comes too late: the phone number is locked for a while.
    response = _post(client, csrf, scene["event"], scene["ann"])
    assert response.status_code == 429 and _regs(db) == []
    # Another phone from the same address still gets through, until the address's limit.
    monkeypatch.setitem(app.config, "EVENT_SELF_RATE_LIMIT", 4)
    assert _post(client, csrf, scene["event"], scene["bea"]).status_code == 302
    assert _post(client, csrf, scene["event"], phone="13700000001", last4="1111").status_code == 429


def test_honeypot_writes_nothing(client, db, csrf, scene):
    response = _post(client, csrf, scene["event"], scene["ann"], website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"].endswith(_url(scene["event"]))
    assert _regs(db) == []


def test_cancel_own_sign_up_promotes_the_next(client, db, csrf, scene):
    _post(client, csrf, scene["event"], scene["ann"])
    services.register(scene["event"], scene["bea"], scene["volunteer"])  # waits
    db.session.commit()
    # Identify wrongly: the same not-found answer, nothing changes.
    response = _post(client, csrf, scene["event"], scene["ann"], last4="0000", tail="/cancel")
    assert response.status_code == 422 and NOT_FOUND in response.get_data(as_text=True)
    response = _post(client, csrf, scene["event"], scene["ann"], tail="/cancel")
    assert response.status_code == 302
    assert "Your sign-up is cancelled" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    ann_reg, bea_reg = _regs(db)
    assert ann_reg.status is RegistrationStatus.CANCELLED and bea_reg.status is RegistrationStatus.REGISTERED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "event.promote")) == 1
    # Nothing left to cancel: said plainly, nothing written.
    response = _post(client, csrf, scene["event"], scene["ann"], tail="/cancel")
    assert response.status_code == 422 and "no sign-up for this event" in response.get_data(as_text=True)
    # Signing up again after cancelling is a new sign-up (the place is Bea's now: waiting list).
    _post(client, csrf, scene["event"], scene["ann"])
    db.session.expire_all()
    assert _regs(db)[0].status is RegistrationStatus.WAITLISTED


@pytest.mark.parametrize("data", [
    {}, {"phone": "", "id_last4": ""}, {"phone": "\x00", "id_last4": "\x00\x00\x00\x00"},
    {"phone": "1" * 5000, "id_last4": "长长长长"}, {"phone": "１３９０００００００１", "id_last4": "abcd"},
    {"phone": "13900000001", "id_last4": "12345"}, {"phone": ["13900000001", "x"], "id_last4": "😀😀"},
])
@pytest.mark.parametrize("tail", ["", "/cancel"])
def test_bad_inputs_never_fail_and_write_nothing(client, db, csrf, scene, data, tail):
    before = {k: v for k, v in dbstate.contents().items() if "rate_limit" not in k}
    response = client.post(_url(scene["event"], tail), data={"csrf_token": csrf(), **data})
    assert response.status_code in (422, 429)
    assert {k: v for k, v in dbstate.contents().items() if "rate_limit" not in k} == before


def test_event_page_shows_the_public_link_while_open(client, db, login_as, scene):
    login_as(scene["volunteer"])
    page = client.get(f"/events/{scene['event'].id}").get_data(as_text=True)
    assert f"/events/join/{scene['event'].public_token}" in page and 'id="public-url"' in page
    scene["event"].status = EventStatus.CLOSED
    db.session.commit()
    assert "/events/join/" not in client.get(f"/events/{scene['event'].id}").get_data(as_text=True)
