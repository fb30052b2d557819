"""Every htmx-enhanced member view answers both ways: a full page without HX-Request, a fragment with it."""

import pytest
from sqlalchemy import func, select

from crm.auth.models import Role, User
from crm.members.models import Member, Note
from tests import dbstate, factories
from tests.i18n import msg

HX = {"HX-Request": "true"}


def _is_page(response):
    return "<html" in response.get_data(as_text=True)


def _is_fragment(response):
    body = response.get_data(as_text=True)
    return "<html" not in body and "<body" not in body and "HX-Request" in response.headers.get("Vary", "")


@pytest.fixture
def own_member(db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, name="张伟", verified=False)
    factories.make_member(owner=volunteer, name="李娜")
    db.session.commit()
    return member


@pytest.mark.parametrize("url", ["/members/", "/members/search", "/members/search?q=zhang"])
def test_the_member_list_is_a_page_or_its_results_block(client, own_member, url):
    page = client.get(url)
    assert page.status_code == 200 and _is_page(page)
    assert "HX-Request" in page.headers["Vary"]  # the same URL answers differently: caches must know
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and _is_fragment(fragment)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"') and "张伟" in body
    assert 'role="search"' not in body  # the filter form is not repeated inside the results


def test_a_boosted_navigation_gets_the_whole_page(client, own_member):
    response = client.get("/members/search", headers={**HX, "HX-Boosted": "true"})
    assert _is_page(response)


def test_a_history_restore_gets_the_whole_page(client, own_member):
    response = client.get("/members/search", headers={**HX, "HX-History-Restore-Request": "true"})
    assert _is_page(response)


def test_the_filtered_results_fragment_honours_the_filters(client, own_member):
    body = client.get("/members/search?q=li", headers=HX).get_data(as_text=True)
    assert "李娜" in body and "张伟" not in body


def _note(csrf, body="约好周六见面"):
    return {"kind": "call", "contact_on": "2026-01-05", "body": body, "csrf_token": csrf()}


def test_adding_a_note_without_htmx_redirects_to_the_case_file(client, db, own_member, csrf):
    response = client.post(f"/members/{own_member.id}/notes", data=_note(csrf))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/members/{own_member.id}#notes")
    assert db.session.scalar(select(func.count()).select_from(Note)) == 1


def test_adding_a_note_with_htmx_returns_the_notes_panel_with_an_empty_form(client, db, own_member, csrf):
    response = client.post(f"/members/{own_member.id}/notes", data=_note(csrf), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and _is_fragment(response)
    assert body.lstrip().startswith('<section class="panel" id="notes"')
    assert "约好周六见面" in body
    assert body.count("约好周六见面") == 2  # in the timeline and in the correction form, not left in the new-note box
    assert 'name="csrf_token"' in body  # the form in the fragment can post again


def test_an_invalid_note_without_htmx_is_the_whole_case_file_with_the_error(client, own_member, csrf):
    before = dbstate.row_counts()
    response = client.post(f"/members/{own_member.id}/notes", data=_note(csrf, body="a\x00b"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and _is_page(response)
    assert 'id="body-error"' in body and "a\x00b" in body
    assert dbstate.row_counts() == before


def test_an_invalid_note_with_htmx_is_a_422_fragment_with_the_error_and_the_text(client, own_member, csrf):
    before = dbstate.row_counts()
    response = client.post(f"/members/{own_member.id}/notes", data=_note(csrf, body="长" * 4001), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and _is_fragment(response)
    assert 'id="body-error"' in body and "长" * 4001 in body
    assert dbstate.row_counts() == before


@pytest.fixture
def supervised_member(db, login_as):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    member = factories.make_member(owner=volunteer, verified=False)
    db.session.commit()
    return member


def test_verifying_without_htmx_redirects_to_the_verification_panel(client, db, supervised_member, csrf):
    response = client.post(f"/members/{supervised_member.id}/verify", data={"check": "realname", "csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"].endswith("#verification")
    db.session.expire_all()
    assert db.session.get(Member, supervised_member.id).realname_verified_at is not None


def test_verifying_with_htmx_returns_the_verification_panel(client, db, supervised_member, csrf):
    response = client.post(f"/members/{supervised_member.id}/verify", data={"check": "realname", "csrf_token": csrf()},
                           headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and _is_fragment(response)
    assert body.lstrip().startswith('<section class="panel" id="verification"')
    assert body.count("✓") == 1 and msg("Verification recorded.") in body
    supervisor_name = db.session.scalar(select(User.display_name).where(User.roles == Role.SUPERVISOR))
    assert supervisor_name in body  # who verified, read after the change


def test_a_refused_verification_with_htmx_shows_the_reason_in_the_panel(client, db, supervised_member, csrf):
    token = csrf()
    client.post(f"/members/{supervised_member.id}/verify", data={"check": "realname", "csrf_token": token})
    before = dbstate.contents()
    response = client.post(f"/members/{supervised_member.id}/verify", data={"check": "realname", "csrf_token": token},
                           headers=HX)
    assert _is_fragment(response) and msg("This step has already been recorded.") in response.get_data(as_text=True)
    assert dbstate.contents() == before


def test_the_case_file_page_varies_on_htmx(client, own_member):
    response = client.get(f"/members/{own_member.id}")
    assert _is_page(response) and "HX-Request" in response.headers["Vary"]
