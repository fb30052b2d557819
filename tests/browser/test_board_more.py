"""The pipeline board's "show more" per column in a real browser: htmx appends the next cards in place; without
JavaScript the link opens the column's own page. Screenshots under test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from crm.members.models import Gender
from crm.pairings import queries, services
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser


def _world(app, db, n):
    with app.test_request_context():
        branch = make_branch()
        volunteer = make_user("volunteer", branch=branch, display_name="王芳")
        man = make_member(owner=volunteer, gender=Gender.MALE, name="李强")
        for i in range(n):
            services.propose_pairing(man, make_member(owner=volunteer, gender=Gender.FEMALE, name=f"张{i}娜"),
                                     volunteer)
    db.session.commit()
    return volunteer


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_show_more_loads_the_next_cards_of_a_column(app, db, fresh_context, shot, javascript):
    n = queries.BOARD_FIRST_PAGE + 3
    volunteer = _world(app, db, n)
    page = fresh_context(java_script_enabled=javascript).new_page()
    log_in(page, volunteer)
    page.goto("/pairings/board")
    column = page.locator("section.board-column").filter(has=page.locator("#col-awaiting_consent"))
    expect(column.locator("li.card")).to_have_count(queries.BOARD_FIRST_PAGE)
    more = column.locator("li.more a")
    expect(more).to_contain_text("3")
    shot(page, "first-page")
    if javascript:
        page.evaluate("window.__marker = 1")
        more.click()
        expect(column.locator("li.card")).to_have_count(n)
        expect(column.locator("li.more")).to_have_count(0)
        assert page.evaluate("window.__marker") == 1, "the page was reloaded"
        assert_accessible(page, "board after show more")
    else:
        more.click()
        page.wait_for_url("**/pairings/board/more**")
        expect(page.locator("li.card")).to_have_count(3)
        expect(page.locator(".page-head a.button[href$='/pairings/board']")).to_be_visible()  # back to the board
    shot(page, "after-show-more")
