"""A note deleted by mistake, and undone: with JavaScript (htmx, hx-confirm, in place) and without it
(the confirmation page and the Undo form in the flash). Screenshots under test-artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.members.models import Note
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import make_member, make_note, make_user

pytestmark = pytest.mark.browser


def _deleted(db, note_id) -> bool:
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.scalar(select(Note.deleted_at).where(Note.id == note_id)) is not None


def _world(db):
    volunteer = make_user("volunteer", display_name="王芳")
    member = make_member(owner=volunteer, name="李晓梅")
    wrong = make_note(member, volunteer, body="这条记录写错了会员")
    make_note(member, volunteer, body="第一次电话，了解基本情况。")
    db.session.commit()
    return volunteer, member, wrong


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_delete_a_note_and_undo_in_place_with_javascript(db, fresh_context, shot, phone):
    volunteer, member, wrong = _world(db)
    page = fresh_context(phone=phone).new_page()
    log_in(page, volunteer)
    page.goto(f"/members/{member.id}")
    page.evaluate("window.__marker = 1")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    page.locator(f"#note-{wrong.id} a.note-delete").click()
    flash = page.locator("#flashes .flash-undo")
    expect(flash).to_be_visible()
    expect(page.locator("#notes")).not_to_contain_text("这条记录写错了会员")
    expect(page.locator("#notes")).to_contain_text("第一次电话")
    assert dialogs, "hx-confirm asked first"
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    undo = flash.get_by_role("button")
    expect(undo).to_be_focused()  # keyboard users continue from the Undo button
    assert _deleted(db, wrong.id)
    shot(page, "deleted-with-undo")
    assert_accessible(page, "case file after deleting a note")

    undo.click()
    expect(page.locator(f"#note-{wrong.id}")).to_contain_text("这条记录写错了会员")
    expect(page.locator(f"#note-{wrong.id}")).to_be_focused()
    expect(page.locator("#flashes")).not_to_contain_text(flash.inner_text() if flash.count() else "∅")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert not _deleted(db, wrong.id)
    shot(page, "restored")


def test_dismissing_the_confirmation_deletes_nothing(db, fresh_context):
    volunteer, member, wrong = _world(db)
    page = fresh_context().new_page()
    log_in(page, volunteer)
    page.goto(f"/members/{member.id}")
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"#note-{wrong.id} a.note-delete").click()
    page.wait_for_timeout(500)
    expect(page.locator(f"#note-{wrong.id}")).to_be_visible()
    assert not _deleted(db, wrong.id)


def test_delete_a_note_and_undo_without_javascript(db, fresh_context, shot):
    volunteer, member, wrong = _world(db)
    page = fresh_context(java_script_enabled=False).new_page()
    log_in(page, volunteer)
    page.goto(f"/members/{member.id}")

    page.locator(f"#note-{wrong.id} a.note-delete").click()
    page.wait_for_url(f"**/members/{member.id}/notes/{wrong.id}/delete")
    expect(page.locator("blockquote")).to_contain_text("这条记录写错了会员")
    shot(page, "confirmation-page")
    assert not _deleted(db, wrong.id)  # the confirmation page itself deletes nothing
    page.locator("form.confirm-step button[type=submit]").click()

    page.wait_for_url(re.compile(rf"/members/{member.id}(#.*)?$"))
    expect(page.locator("#notes")).not_to_contain_text("这条记录写错了会员")
    flash = page.locator("#flashes .flash-undo")
    expect(flash).to_be_visible()
    assert _deleted(db, wrong.id)
    shot(page, "deleted-with-undo")

    flash.get_by_role("button").click()
    page.wait_for_url(re.compile(rf"/members/{member.id}(#.*)?$"))
    expect(page.locator(f"#note-{wrong.id}")).to_contain_text("这条记录写错了会员")
    assert not _deleted(db, wrong.id)
    shot(page, "restored")


def _body(db, note_id) -> str:
    db.session.rollback()
    return db.session.scalar(select(Note.body).where(Note.id == note_id))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_correct_a_note_in_place_or_by_page(db, fresh_context, shot, javascript):
    volunteer, member, wrong = _world(db)
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto(f"/members/{member.id}")
    if javascript:
        page.evaluate("window.__marker = 1")
    item = page.locator(f"#note-{wrong.id}")
    item.locator("summary").click()
    item.locator("textarea").fill("")
    item.get_by_role("button", name=re.compile("更正|correction", re.I)).click()
    # An empty correction: the message beside the field, nothing saved.
    if javascript:
        expect(page.locator(f"#note-body-{wrong.id}-error")).to_be_visible()
        expect(page.locator(f"#note-body-{wrong.id}")).to_be_focused()
    else:
        page.wait_for_url(re.compile(rf"/members/{member.id}(#.*)?$"))
        expect(page.locator("#flashes .flash-error")).to_be_visible()
    assert _body(db, wrong.id) == "这条记录写错了会员"
    shot(page, "empty-correction")

    item = page.locator(f"#note-{wrong.id}")
    if not item.locator("details[open]").count():
        item.locator("summary").click()
    item.locator("textarea").fill("这条记录已更正")
    item.get_by_role("button", name=re.compile("更正|correction", re.I)).click()
    expect(page.locator(f"#note-{wrong.id} p.body")).to_have_text("这条记录已更正")
    assert _body(db, wrong.id) == "这条记录已更正"
    if javascript:
        assert page.evaluate("window.__marker") == 1, "the page was reloaded"
        expect(page.locator(f"#note-{wrong.id}")).to_be_focused()
    shot(page, "corrected")
