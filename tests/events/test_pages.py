"""Event pages: sign-up and door through the client, mutual choices into introductions (once),
one-sided choices invisible to the other side, bad input never a 500 and never written, PDFs."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.clock import now_utc
from crm.events import services
from crm.events.models import Event, EventChoice, EventRegistration, RegistrationStatus
from crm.pairings.models import ConsentAnswer, ConsentChannel, Pairing, Source, Stage
from tests.events.helpers import at_the_door, enter_choices, make_event
from tests.factories import make_member, make_user


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_mutual_choice_becomes_one_introduction_and_one_sided_stays_private(client, login_as, csrf, held_event, db):
    s = held_event
    regs = s["regs"]
    login_as(s["va"])
    # Ann chooses Carl and Dan; Bea chooses Dan.
    both = f"{regs['carl'].badge_number}, {regs['dan'].badge_number}"
    assert enter_choices(client, csrf, s, "ann", both).status_code == 302
    assert enter_choices(client, csrf, s, "bea", str(regs["dan"].badge_number)).status_code == 302
    assert _count(db, Pairing) == 0
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(s["vb"])
    # Carl chooses Ann back (mutual); Dan chooses nobody (Ann's and Bea's choices of Dan are one-sided).
    response = enter_choices(client, csrf, s, "carl", str(regs["ann"].badge_number))
    assert response.status_code == 302
    assert enter_choices(client, csrf, s, "dan", "").status_code == 302
    pairings = db.session.scalars(select(Pairing)).all()
    assert len(pairings) == 1
    pairing = pairings[0]
    assert pairing.source is Source.EVENT and pairing.stage is Stage.INTRODUCED
    assert {pairing.member_low_id, pairing.member_high_id} == {s["people"]["ann"].id, s["people"]["carl"].id}
    assert all(c.answer is ConsentAnswer.YES and c.channel is ConsentChannel.IN_PERSON for c in pairing.consents)
    assert [(h.from_stage, h.to_stage) for h in pairing.history] == [
        (None, Stage.AWAITING_CONSENT), (Stage.AWAITING_CONSENT, Stage.INTRODUCED)]
    # Entering Carl's choice again does not make a second pairing.
    assert enter_choices(client, csrf, s, "carl", str(regs["ann"].badge_number)).status_code == 302
    assert _count(db, Pairing) == 1

    # Dan's volunteer (vb) must see nothing of Ann's or Bea's one-sided choices of Dan: Bea (only
    # a one-sided chooser) appears on no page at all; Ann (in the mutual pair with Carl) is on the
    # pairing pages, but never on Dan's case file or Dan's choices page.
    dan = s["people"]["dan"]
    event_id = s["event"].id
    pairing_id = pairings[0].id
    pages = [f"/members/{dan.id}", f"/events/{event_id}", f"/events/{event_id}/report",
             f"/events/{event_id}/choices/{regs['dan'].id}", f"/events/{event_id}/choices/{regs['carl'].id}",
             "/pairings/board", "/pairings/inbox", f"/pairings/{pairing_id}",
             f"/members/{s['people']['carl'].id}", "/members/", "/followups/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = response.get_data(as_text=True)
        assert "王蓓" not in body and "蓓" not in body, url
    for url in (f"/members/{dan.id}", f"/events/{event_id}/choices/{regs['dan'].id}"):
        body = client.get(url).get_data(as_text=True)
        assert "李安" not in body and ">安<" not in body, url
    # Ann's and Bea's choice pages are not open to vb at all.
    assert client.get(f"/events/{event_id}/choices/{regs['bea'].id}").status_code == 404
    assert client.get(f"/events/{event_id}/choices/{regs['ann'].id}").status_code == 404
    # The report counts the pair and prints its cards.
    report = client.get(f"/events/{s['event'].id}/report").get_data(as_text=True)
    assert 'id="mutual-pairs">1<' in report
    pdf = client.post(f"/events/{s['event'].id}/cards", data={"csrf_token": csrf()})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_existing_pair_is_not_duplicated(held_event, db):
    from crm.pairings.services import propose_pairing

    s = held_event
    ann, carl = s["people"]["ann"], s["people"]["carl"]
    earlier = propose_pairing(ann, carl, s["va"])
    services.set_choices(s["event"], s["regs"]["ann"], [s["regs"]["carl"].badge_number], s["va"], 5)
    made = services.set_choices(s["event"], s["regs"]["carl"], [s["regs"]["ann"].badge_number], s["vb"], 5)
    assert [p.id for p in made] == [earlier.id]
    assert _count(db, Pairing) == 1


@pytest.mark.parametrize("badges", ["abc", "1; DROP", "9999", "-3", "1 " * 50, "\x00", "１２３４５６７"])
def test_bad_choice_input_is_refused_beside_the_field_and_writes_nothing(client, login_as, csrf, held_event, db,
                                                                          badges):
    s = held_event
    login_as(s["va"])
    response = enter_choices(client, csrf, s, "ann", badges)
    assert response.status_code in (400, 422)
    assert _count(db, EventChoice) == 0


def test_same_gender_or_own_number_refused(client, login_as, csrf, held_event, db):
    s = held_event
    login_as(s["va"])
    for badges in (str(s["regs"]["bea"].badge_number), str(s["regs"]["ann"].badge_number)):
        response = enter_choices(client, csrf, s, "ann", badges)
        assert response.status_code == 422
        assert 'class="error"' in response.get_data(as_text=True)
    assert _count(db, EventChoice) == 0


def test_register_and_door_check_in_without_js_and_with_htmx(client, login_as, csrf, db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, starts_at=now_utc() + timedelta(minutes=5),
                       ends_at=now_utc() + timedelta(hours=3))  # signed up now, checked in ten minutes in
    member = make_member(owner=volunteer, name="孙悦")
    db.session.commit()
    login_as(volunteer)
    page = client.get(f"/events/{event.id}?q=sun").get_data(as_text=True)
    assert "孙悦" in page
    response = client.post(f"/events/{event.id}/register", data={"csrf_token": csrf(), "member_id": member.id})
    assert response.status_code == 302
    reg = db.session.scalars(select(EventRegistration)).one()
    with at_the_door(event):
        door = client.get(f"/events/{event.id}/door?q=sy").get_data(as_text=True)
        assert "孙悦" in door and "Arrived" in door
        assert client.get(f"/events/{event.id}/door?q={reg.badge_number}").status_code == 200
        response = client.post(f"/events/{event.id}/door/check-in",
                               data={"csrf_token": csrf(), "registration_id": reg.id, "q": "sy"})
        assert response.status_code == 302
        again = client.post(f"/events/{event.id}/door/check-in",
                            data={"csrf_token": csrf(), "registration_id": reg.id, "q": "sy"},
                            headers={"HX-Request": "true"})
    assert again.status_code == 200 and "already checked in" in again.get_data(as_text=True)
    assert "<html" not in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EventRegistration, reg.id).status is RegistrationStatus.ATTENDED


@pytest.mark.parametrize("data", [
    {"member_id": "x"}, {"member_id": "99999999999"}, {"member_id": ""}, {},
])
def test_bad_registration_input_never_500(client, login_as, csrf, db, data):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch)
    db.session.commit()
    login_as(volunteer)
    response = client.post(f"/events/{event.id}/register", data={"csrf_token": csrf(), **data})
    assert response.status_code == 422
    assert _count(db, EventRegistration) == 0


def test_someone_elses_member_cannot_be_registered(client, login_as, csrf, db):
    volunteer, other = make_user("volunteer"), make_user("volunteer")
    event = make_event(volunteer.branch)
    theirs = make_member(owner=other)
    db.session.commit()
    login_as(volunteer)
    response = client.post(f"/events/{event.id}/register", data={"csrf_token": csrf(), "member_id": theirs.id})
    assert response.status_code == 422
    assert _count(db, EventRegistration) == 0


@pytest.mark.parametrize("change", [
    {"title": ""}, {"capacity": "0"}, {"capacity": "abc"}, {"max_gender_percent": "30"},
    {"ends_at": "2026-12-01T08:00"}, {"starts_at": "not a date"}, {"age_min": "50", "age_max": "20"},
    {"signup_deadline": "2026-12-09T08:00"}, {"title": "a\x00b"}, {"hosts": ["999999"]},
])
def test_bad_event_form_is_refused_and_writes_nothing(client, login_as, csrf, db, change):
    login_as("supervisor")
    data = {"title": "滑雪联谊", "starts_at": "2026-12-05T09:00", "ends_at": "2026-12-05T17:00", "place": "崇礼",
            "capacity": "40", "max_gender_percent": "60", "csrf_token": csrf(), **change}
    response = client.post("/events/new", data=data)
    if change == {"hosts": ["999999"]}:
        assert response.status_code in (302, 422)  # an unknown branch id is not a choice
        if response.status_code == 302:
            assert [b.id for b in db.session.scalars(select(Event)).one().hosts]
        return
    assert response.status_code == 422, change
    assert _count(db, Event) == 0


def test_counsellor_and_other_branch_cannot_run_the_event(client, login_as, db):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch)
    db.session.commit()
    login_as("counsellor")
    assert client.get("/events/").status_code == 403
    assert client.get(f"/events/{event.id}/door").status_code == 403


def test_badges_show_number_and_given_name_only(client, login_as, db):
    from crm.events.badges import given_name

    assert given_name("张伟") == "伟" and given_name("欧阳娜娜") == "娜娜" and given_name("Anna·李") == "Anna"
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch)
    services.register(event, make_member(branch=supervisor.branch, name="周晓梅"), supervisor)
    db.session.commit()
    login_as(supervisor)
    response = client.get(f"/events/{event.id}/badges.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    from pathlib import Path
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "event-badges.pdf").write_bytes(response.data)  # looked at as a PNG (pdftoppm)
    from flask import render_template
    html = render_template("events/badges.html", event=event, badges=[(1, "晓梅")])
    assert "周" not in html
    from crm.audit.models import AuditEntry
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "event.print_badges")) == 1


def test_door_search_is_a_fixed_number_of_statements(client, login_as, db, count_queries):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch, capacity=50, starts_at=now_utc() + timedelta(minutes=5),
                       ends_at=now_utc() + timedelta(hours=3))
    for i in range(12):
        services.register(event, make_member(branch=supervisor.branch, name=f"张{'伟娜丽强敏静磊洋艳勇晓雨'[i]}"),
                          supervisor)
    db.session.commit()
    login_as(supervisor)
    with at_the_door(event), count_queries() as counted:
        response = client.get(f"/events/{event.id}/door?q=zh")
    assert response.status_code == 200 and response.get_data(as_text=True).count("door-tap") == 12
    assert len(counted) < 15, counted


def test_a_held_event_offers_no_edit_and_an_edit_is_refused_beside_the_title(client, login_as, csrf, held_event, db):
    event = held_event["event"]
    login_as(held_event["supervisor"])
    edit_url = f"/events/{event.id}/edit"
    assert f'href="{edit_url}"' not in client.get(f"/events/{event.id}").get_data(as_text=True)
    response = client.get(edit_url)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/events/{event.id}")
    assert "can no longer be changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    local = lambda dt: (dt + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # noqa: E731 - Beijing
    response = client.post(edit_url, data={
        "csrf_token": csrf(), "version": str(event.version), "title": "改过的标题", "place": event.place,
        "starts_at": local(event.starts_at), "ends_at": local(event.ends_at), "capacity": "50"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "can no longer be changed" in page and "改过的标题" in page
    db.session.expire_all()
    assert (db.session.get(Event, event.id).title, db.session.get(Event, event.id).capacity) == ("七夕联谊会", 10)


def test_the_door_before_the_day_says_so_and_offers_no_tap(client, login_as, db):
    supervisor = make_user("supervisor")
    event = make_event(supervisor.branch)  # in a week
    reg = services.register(event, make_member(branch=supervisor.branch, name="孙悦"), supervisor)
    db.session.commit()
    login_as(supervisor)
    response = client.get(f"/events/{event.id}/door?q={reg.badge_number}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "孙悦" in page
    assert "only on the day" in page and "door-tap" not in page


def test_an_admin_editing_another_branchs_event_can_keep_their_own_branch_as_co_host(client, login_as, csrf, db):
    supervisor = make_user("supervisor")
    admin = login_as("admin")
    event = make_event(supervisor.branch)
    event.hosts = [supervisor.branch, admin.branch]
    db.session.commit()
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{admin.branch_id}">' in page
    assert not re.search(f'<option[^>]* value="{supervisor.branch_id}"', page)  # the organiser hosts: no choice
    local = lambda dt: (dt + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # noqa: E731 - Beijing
    data = {"csrf_token": csrf(), "version": str(event.version), "title": event.title, "place": event.place,
            "starts_at": local(event.starts_at), "ends_at": local(event.ends_at), "capacity": "10"}
    assert client.post(f"/events/{event.id}/edit", data={**data, "hosts": ["²"]}).status_code == 422
    assert client.post(f"/events/{event.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).host_ids == {supervisor.branch_id}  # only the hosts chosen (none)


@pytest.mark.parametrize("q", ["²", "①", "١٢", "12345678901"])
def test_the_door_search_reads_only_ascii_digits_as_a_badge_number(client, login_as, db, q):
    supervisor = login_as("supervisor")
    event = make_event(supervisor.branch)
    services.register(event, make_member(branch=supervisor.branch, name="孙悦"), supervisor)
    db.session.commit()
    response = client.get(f"/events/{event.id}/door", query_string={"q": q})
    assert response.status_code == 200 and "孙悦" not in response.get_data(as_text=True)


def test_a_choices_save_with_a_version_that_is_no_number_is_refused_as_stale(client, login_as, csrf, held_event, db):
    login_as(held_event["supervisor"])
    reg, other = held_event["regs"]["ann"], held_event["regs"]["carl"]
    for version in ("²", "0", "-1", "99999999999"):
        response = client.post(f"/events/{held_event['event'].id}/choices/{reg.id}",
                               data={"csrf_token": csrf(), "badges": str(other.badge_number), "version": version})
        assert response.status_code == 409, version
    assert _count(db, EventChoice) == 0


@pytest.mark.parametrize("change, field, message", [
    ({"starts_at": "0001-01-01T00:00"}, "starts_at", "Enter a date in the years"),
    ({"ends_at": "9999-12-31T23:59"}, "ends_at", "Enter a date in the years"),
    ({"signup_deadline": "0001-01-01T00:00"}, "signup_deadline", "Enter a date in the years"),
    ({"capacity": "1", "max_gender_percent": "50"}, "max_gender_percent", "leaves none for either gender"),
])
def test_event_dates_out_of_range_and_a_quota_leaving_no_place_are_refused_beside_the_field(
        client, login_as, csrf, db, change, field, message):
    login_as("supervisor")
    data = {"title": "滑雪联谊", "starts_at": "2027-01-05T09:00", "ends_at": "2027-01-05T17:00", "place": "崇礼",
            "capacity": "40", "max_gender_percent": "60", "csrf_token": csrf(), **change}
    response = client.post("/events/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(f'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1)
    assert all(f'value="{v}"' in page for k, v in change.items() if k != "max_gender_percent")  # kept as typed
    assert _count(db, Event) == 0
