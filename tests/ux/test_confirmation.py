"""Destructive actions ask first, also without JavaScript (crm/confirm.py): disabling a user account."""

from crm.auth.models import User
from tests import dbstate, factories
from tests.conftest import csrf_token
from tests.i18n import msg


def test_disabling_a_user_without_javascript_shows_a_confirmation_and_writes_nothing(client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer", display_name="王芳")
    db.session.commit()
    before = dbstate.row_counts()
    response = client.post(f"/admin/users/{target.id}/active", data={"active": "0", "csrf_token": csrf_token(client)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and msg("Disable %(name)s?", name="王芳") in body
    assert 'name="confirmed" value="1"' in body and 'name="active" value="0"' in body  # posts the same again
    assert 'href="/admin/users"' in body  # and a way back
    assert dbstate.row_counts() == before
    db.session.expire_all()
    assert db.session.get(User, target.id).is_active_user


def test_confirming_disables_the_account(client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer")
    db.session.commit()
    response = client.post(f"/admin/users/{target.id}/active",
                           data={"active": "0", "confirmed": "1", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, target.id).is_active_user


def test_enabling_needs_no_confirmation_and_the_list_asks_with_htmx(client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer", is_active_user=False)
    active = factories.make_user("volunteer", display_name="陈刚")
    db.session.commit()
    assert client.post(f"/admin/users/{target.id}/active",
                       data={"active": "1", "csrf_token": csrf_token(client)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).is_active_user
    page = client.get("/admin/users").get_data(as_text=True)
    assert "hx-confirm=" in page and "hx-vals='{\"confirmed\": \"1\"}'" in page
    assert active.display_name in page


# --- events: removing a member from an event, cancelling an event -----------------------------------

def _event_world(db, login_as):
    from crm.events import services as event_services
    from tests.events.helpers import make_event
    supervisor = factories.make_user("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    event = make_event(supervisor.branch)
    member = factories.make_member(owner=volunteer, name="李晓梅")
    reg = event_services.register(event, member, volunteer)
    db.session.commit()
    login_as(supervisor)
    return event, reg


def test_removing_a_member_from_an_event_asks_first_without_javascript(client, db, login_as):
    from crm.events.models import EventRegistration, RegistrationStatus
    event, reg = _event_world(db, login_as)
    before = dbstate.row_counts()
    response = client.post(f"/events/{event.id}/cancel",
                           data={"registration_id": str(reg.id), "csrf_token": csrf_token(client)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "李晓梅" in body and 'name="confirmed" value="1"' in body
    assert f'name="registration_id" value="{reg.id}"' in body
    assert dbstate.row_counts() == before
    response = client.post(f"/events/{event.id}/cancel", data={"registration_id": str(reg.id), "confirmed": "1",
                                                              "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(EventRegistration, reg.id).status is RegistrationStatus.CANCELLED


def test_cancelling_an_event_asks_first_other_status_changes_do_not(client, db, login_as):
    from crm.events.models import Event, EventStatus
    event, _reg = _event_world(db, login_as)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "hx-confirm=" in page and 'value="cancelled"' in page
    before = dbstate.row_counts()
    response = client.post(f"/events/{event.id}/status", data={"status": "cancelled", "csrf_token": csrf_token(client)})
    assert response.status_code == 200 and 'name="status" value="cancelled"' in response.get_data(as_text=True)
    assert dbstate.row_counts() == before
    response = client.post(f"/events/{event.id}/status", data={"status": "cancelled", "confirmed": "1",
                                                               "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status is EventStatus.CANCELLED


def test_closing_sign_ups_needs_no_confirmation(client, db, login_as):
    from crm.events.models import Event, EventStatus
    event, _reg = _event_world(db, login_as)
    response = client.post(f"/events/{event.id}/status", data={"status": "closed", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status is EventStatus.CLOSED


# --- members: bulk reassign ---------------------------------------------------------------------------

def test_bulk_reassign_asks_first_naming_the_volunteer_and_resends_the_selection(client, db, login_as):
    from crm.members.models import Member
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch, display_name="王芳")
    members = [factories.make_member(owner=None, branch=supervisor.branch) for _ in range(3)]
    db.session.commit()
    before = dbstate.row_counts()
    data = {"csrf_token": csrf_token(client), "member_ids": [str(m.id) for m in members],
            "to_user_id": str(volunteer.id), "reason": "新会员分配", "next": "/members/search?owner=pool"}
    asked = client.post("/members/reassign", data=data)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'class="panel confirm-step"' in body and "王芳" in body
    assert all(f'name="member_ids" value="{m.id}"' in body for m in members)  # the whole selection goes again
    assert 'href="/members/search?owner=pool"' in body  # back to the list it came from
    assert dbstate.row_counts() == before
    done = client.post("/members/reassign", data={**data, "confirmed": "1"})
    assert done.status_code == 302 and done.headers["Location"] == "/members/search?owner=pool"
    db.session.expire_all()
    assert [db.session.get(Member, m.id).owner_id for m in members] == [volunteer.id] * 3


def test_bulk_reassign_refusals_come_before_the_question(client, db, login_as):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    db.session.commit()
    response = client.post("/members/reassign", data={
        "csrf_token": csrf_token(client), "member_ids": ["999999"], "to_user_id": str(volunteer.id),
        "reason": "分配", "next": "/members/search"})
    assert response.status_code == 422 and "confirm-step" not in response.get_data(as_text=True)
