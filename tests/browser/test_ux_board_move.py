"""Moving a pairing on the board keeps you on the board, and closing an introduction asks first, in a real browser
with and without JavaScript. Screenshots under test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.members.models import Gender
from crm.pairings import services
from crm.pairings.models import ConsentAnswer, ConsentChannel, Pairing, Stage
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser


def _introduced(app, db):
    with app.test_request_context():
        volunteer = make_user("volunteer", branch=make_branch(), display_name="王芳")
        man = make_member(owner=volunteer, gender=Gender.MALE, name="李强")
        woman = make_member(owner=volunteer, gender=Gender.FEMALE, name="张娜")
        pairing = services.propose_pairing(man, woman, volunteer)
        for m in (man, woman):
            services.record_consent(pairing, m, ConsentAnswer.YES, ConsentChannel.PHONE, {}, volunteer)
    db.session.commit()
    assert pairing.stage is Stage.INTRODUCED
    return volunteer, pairing


def _stage(db, pairing_id):
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.scalar(select(Pairing.stage).where(Pairing.id == pairing_id))


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_moving_a_card_keeps_the_board_and_its_filters(app, db, fresh_context, shot, javascript):
    volunteer, pairing = _introduced(app, db)
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto("/pairings/board?source=manual")
    introduced = page.locator("section.board-column").filter(has=page.locator("#col-introduced"))
    meeting = page.locator("section.board-column").filter(has=page.locator("#col-first_meeting"))
    expect(introduced.locator(f"#card-{pairing.id}")).to_be_visible()
    if javascript:
        page.evaluate("window.__marker = 1")
    card = page.locator(f"#card-{pairing.id}")
    card.locator("select[name=to]").select_option("first_meeting")
    card.locator("button[type=submit]").click()
    expect(meeting.locator(f"#card-{pairing.id}")).to_be_visible()
    expect(introduced.locator(f"#card-{pairing.id}")).to_have_count(0)
    expect(meeting.locator(".count")).to_have_text("1")
    expect(page.locator(".flash-success")).to_be_visible()
    assert page.url.endswith("/pairings/board?source=manual")  # the same board, filters kept
    if javascript:
        assert page.evaluate("window.__marker") == 1, "the page was reloaded"
        assert_accessible(page, "board after a move")
    assert _stage(db, pairing.id) is Stage.FIRST_MEETING
    shot(page, "after-move")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_closing_an_introduction_asks_first(app, db, fresh_context, shot, javascript):
    volunteer, pairing = _introduced(app, db)
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto(f"/pairings/{pairing.id}")
    page.locator("select[name=close_reason]").select_option("lost_contact")
    close = page.locator("#pipeline button[value=closed]")
    if javascript:
        page.once("dialog", lambda dialog: dialog.dismiss())
        close.click()
        page.wait_for_timeout(300)
        assert _stage(db, pairing.id) is Stage.INTRODUCED  # dismissed: nothing done
        page.once("dialog", lambda dialog: dialog.accept())
        close.click()
    else:
        close.click()
        expect(page.locator("form.confirm-step")).to_be_visible()
        assert _stage(db, pairing.id) is Stage.INTRODUCED  # asked, nothing done yet
        shot(page, "close-confirmation")
        page.locator("form.confirm-step button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert _stage(db, pairing.id) is Stage.CLOSED
    shot(page, "closed")


def test_the_users_list_keeps_its_actions_in_one_row_on_a_phone(db, fresh_context, shot):
    from tests.browser.conftest import PHONE
    admin = make_user("admin")
    make_user("volunteer", display_name="王芳")
    db.session.commit()
    page = fresh_context(**PHONE).new_page()
    log_in(page, admin)
    page.goto("/admin/users")
    cell = page.locator("tr", has_text="王芳").locator("td.user-actions")
    edit, disable = cell.locator("a").first.bounding_box(), cell.locator("form button").bounding_box()
    assert abs(edit["y"] + edit["height"] / 2 - (disable["y"] + disable["height"] / 2)) < 30  # the same row
    shot(page, "users-phone")
