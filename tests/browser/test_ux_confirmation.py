"""Disabling an account asks first: the browser's dialog with JavaScript, a confirmation page without it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.auth.models import User
from tests.browser.conftest import log_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def _active(db, user_id) -> bool:
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.scalar(select(User.is_active_user).where(User.id == user_id))


def _row_button(page, user):
    return page.locator("tr", has_text=user.username).locator("form button[type=submit]")


def test_disable_with_javascript_asks_in_a_dialog(db, fresh_context, shot):
    admin = make_user("admin")
    target = make_user("volunteer", display_name="王芳")
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, admin)
    page.goto("/admin/users")
    page.once("dialog", lambda dialog: dialog.dismiss())
    _row_button(page, target).click()
    page.wait_for_timeout(300)
    assert _active(db, target.id)  # dismissed: nothing done
    page.once("dialog", lambda dialog: dialog.accept())
    _row_button(page, target).click()
    expect(page.locator("tr", has_text=target.username).locator(".badge")).to_be_visible()
    assert not _active(db, target.id)
    shot(page, "disabled")


def test_disable_without_javascript_goes_through_a_confirmation_page(db, fresh_context, shot):
    admin = make_user("admin")
    target = make_user("volunteer", display_name="王芳")
    db.session.commit()
    page = fresh_context(java_script_enabled=False).new_page()
    log_in(page, admin)
    page.goto("/admin/users")
    _row_button(page, target).click()
    expect(page.locator("h1")).to_contain_text("王芳")
    shot(page, "confirmation-page")
    assert _active(db, target.id)
    page.locator("form.confirm-step button[type=submit]").click()
    page.wait_for_url("**/admin/users")
    assert not _active(db, target.id)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_removing_a_member_from_an_event_asks_first(db, fresh_context, shot, javascript):
    from crm.events import services as event_services
    from crm.events.models import EventRegistration, RegistrationStatus
    from tests.events.helpers import make_event
    from tests.factories import make_member

    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch)
    reg = event_services.register(event, make_member(owner=volunteer, name="李晓梅"), volunteer)
    db.session.commit()
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto(f"/events/{event.id}")
    button = page.locator("tr", has_text="李晓梅").locator("form button[type=submit]")
    if javascript:
        page.once("dialog", lambda dialog: dialog.accept())
        button.click()
    else:
        button.click()
        expect(page.locator("h1")).to_contain_text("李晓梅")
        shot(page, "confirmation-page")
        db.session.rollback()
        assert db.session.get(EventRegistration, reg.id).status is RegistrationStatus.REGISTERED
        page.locator("form.confirm-step button[type=submit]").click()
    page.wait_for_url(f"**/events/{event.id}")
    expect(page.locator("#flashes")).not_to_be_empty()
    db.session.rollback()
    assert db.session.get(EventRegistration, reg.id).status is RegistrationStatus.CANCELLED


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_event_sign_up_search_is_live_with_javascript_and_a_form_without(db, fresh_context, shot, javascript):
    from crm.members.models import MemberStatus
    from tests.events.helpers import make_event
    from tests.factories import make_member

    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch)
    make_member(owner=volunteer, name="李晓梅", status=MemberStatus.ACTIVE)
    db.session.commit()
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto(f"/events/{event.id}")
    if javascript:
        page.evaluate("window.__marker = 1")
        page.locator("#q").press_sequentially("李晓", delay=50)  # no Enter: results come as you type
    else:
        page.locator("#q").fill("李晓")
        page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator("#event-candidates")).to_contain_text("李晓梅")
    if javascript:
        assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert "q=" in page.url
    shot(page, "candidates")
