"""A form sent after the session or its CSRF token expired: a clear message, what was typed is kept,
nothing is written, and sending again works (test client; the browser side is in tests/browser)."""

import re

from sqlalchemy import func, select

from crm.auth.models import User
from crm.members.models import Member, Note
from crm.security import CSRF_HEADER
from tests import dbstate, factories
from tests.i18n import msg

HX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
TYPED = "约好周六在西湖边见面，她说很期待"


def _note(token, body=TYPED):
    return {"kind": "call", "contact_on": "2026-01-05", "body": body, "csrf_token": token}


def _member(db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, name="张伟")
    db.session.commit()
    return volunteer.id, member.id


def _notes(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Note))


def test_an_htmx_form_with_an_expired_token_gets_a_message_and_a_new_token(client, db, login_as, csrf):
    _, member_id = _member(db, login_as)
    before = dbstate.contents()
    response = client.post(f"/members/{member_id}/notes", data=_note("expired-token"), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert body == msg("Your session has expired or the form is out of date. Check what you entered and send it "
                       "again.")
    assert "<" not in body  # a message for the flash area (static/js/app.js), not a page swapped into the form
    assert dbstate.contents() == before
    # The page takes the new token (app.js) and sending the same text again works.
    again = client.post(f"/members/{member_id}/notes", data=_note(response.headers[CSRF_HEADER]), headers=HX)
    assert again.status_code == 200 and _notes(db) == 1


def test_an_htmx_form_after_the_session_ended_gets_a_message_not_the_login_page(client, db, login_as, csrf):
    user_id, member_id = _member(db, login_as)
    token = csrf()
    user = db.session.get(User, user_id)
    user.end_all_sessions()  # signed out everywhere (or timed out): the cookie no longer counts
    db.session.commit()
    before = dbstate.contents()
    for headers in (HX, BOOSTED):
        response = client.post(f"/members/{member_id}/notes", data=_note(token), headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 401
        assert "HX-Redirect" not in response.headers  # a redirect would throw away the page and the typed text
        assert "<form" not in body and "sign in" in body.lower()
    assert dbstate.contents() == before


def test_an_htmx_link_after_the_session_ended_goes_to_the_login_page(client, db, login_as):
    user_id, member_id = _member(db, login_as)
    db.session.get(User, user_id).end_all_sessions()
    db.session.commit()
    response = client.get(f"/members/{member_id}", headers=BOOSTED)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_a_whole_page_form_with_an_expired_token_comes_back_with_what_was_typed(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    data = factories.member_form_data(name="欧阳娜娜", phone="13912340000", self_intro="周末喜欢去龙井村喝茶",
                                      owner_id=str(volunteer.id), csrf_token="stale")
    before = dbstate.contents()
    response = client.post("/members/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # htmx swaps a 422 for a boosted form: the same page either way
    assert "欧阳娜娜" in page and "13912340000" in page and "周末喜欢去龙井村喝茶" in page
    assert msg("Your session has expired or the form is out of date. Check what you entered and send it "
               "again.") in page
    assert dbstate.contents() == before
    # The form carries a valid token now: sending it again saves the member.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/members/new", data={**data, "csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_a_boosted_form_with_an_expired_token_is_the_page_again(client, db, login_as):
    _, member_id = _member(db, login_as)
    response = client.post(f"/members/{member_id}/notes", data=_note("stale"), headers=BOOSTED)
    assert response.status_code == 422 and TYPED in response.get_data(as_text=True)
    assert _notes(db) == 0


def test_a_form_without_a_token_that_would_write_is_not_replayed(client, db, login_as):
    """Signing out has no fields: replaying the view would sign out without a token. It must not."""
    _member(db, login_as)
    before = dbstate.contents()
    response = client.post("/logout", data={"csrf_token": "stale"})
    assert response.status_code == 400
    assert dbstate.contents() == before
    assert client.get("/members/").status_code == 200  # still signed in


def test_a_missing_token_is_handled_like_an_expired_one(client, db, login_as):
    _, member_id = _member(db, login_as)
    response = client.post(f"/members/{member_id}/notes", data={"body": TYPED})
    assert response.status_code == 422 and TYPED in response.get_data(as_text=True)
    assert _notes(db) == 0


def test_a_nul_in_any_form_field_is_refused_beside_the_field(client, db, login_as, csrf):
    """The central check (crm.security): also fields that have no control-character validator of their own."""
    _, member_id = _member(db, login_as)
    before = dbstate.contents()
    response = client.post(f"/followups/new/{member_id}",
                           data={"due_on": "2026-12-01", "kind": "other", "title": "回访\x00", "csrf_token": csrf()})
    assert response.status_code == 302  # this form answers with a message on the case file
    assert dbstate.contents() == before
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert msg("Remove the invisible control characters from this text.") in page


def test_a_form_whose_session_is_gone_is_not_replayed_for_nobody(client, db, login_as, csrf):
    """No session cookie at all: the CSRF check fails first, and the sign-in check still runs before any view."""
    _, member_id = _member(db, login_as)
    client._cookies.clear()
    before = dbstate.contents()
    page = client.post(f"/members/{member_id}/notes", data=_note("stale"))
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    form = client.post(f"/members/{member_id}/notes", data=_note("stale"), headers=BOOSTED)
    assert form.status_code == 401 and "HX-Redirect" not in form.headers
    assert "张伟" not in page.get_data(as_text=True) + form.get_data(as_text=True)
    assert dbstate.contents() == before
