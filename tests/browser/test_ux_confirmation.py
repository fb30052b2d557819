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
    expect(page.locator("form.confirm-step")).to_contain_text("王芳")
    shot(page, "confirmation-page")
    assert _active(db, target.id)
    page.locator("form.confirm-step button[type=submit]").click()
    page.wait_for_url("**/admin/users")
    assert not _active(db, target.id)
