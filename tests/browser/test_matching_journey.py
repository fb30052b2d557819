"""Issue 4 journey in the system Chromium: from the case file to the suggestions, narrow them in
place, ask why someone is not suggested, and propose the best candidate."""

import re

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from crm.matching import messages, service
from crm.matching.reasons import Reason
from crm.members.models import Gender
from crm.pairings.models import Pairing, Source
from tests.browser.conftest import log_in
from tests.factories import make_member, make_user

pytestmark = pytest.mark.browser


def test_volunteer_goes_from_suggestion_to_proposal(app, db, fresh_context, shot):
    service.reset()
    volunteer = make_user("volunteer", display_name="王芳")
    colleague = make_user("volunteer", branch=volunteer.branch)
    member = make_member(owner=volunteer, name="李明", gender=Gender.MALE, interests=["skiing", "hiking"],
                         settle_city="杭州市")
    best = make_member(owner=colleague, name="周秘密", gender=Gender.FEMALE, interests=["skiing", "hiking"],
                       settle_city="杭州市")
    other = make_member(owner=colleague, name="吴另外", gender=Gender.FEMALE, interests=["films"],
                        home_city="北京市", home_district="海淀区", work_city="北京市", work_district="海淀区")
    opted = make_member(owner=volunteer, name="郑不要", gender=Gender.FEMALE, opt_out_suggestions=True)
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, volunteer)

    page.goto(f"/members/{member.id}")
    page.locator(f".page-head a[href='/members/{member.id}/suggestions']").click()
    expect(page).to_have_url(re.compile(rf"/members/{member.id}/suggestions"))
    cards = page.locator("#suggestion-results .candidate")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(str(best.id))
    expect(page.locator("#suggestion-results")).not_to_contain_text("周秘密")
    shot(page, "suggestions")

    page.locator("select[name=district]").select_option("北京市/海淀区")
    page.locator("form.filters button[type=submit]").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(str(other.id))
    page.goto(f"/members/{member.id}/suggestions")

    page.locator("input[name=other]").fill(str(opted.id))
    page.locator("#why-answer").locator("xpath=..").locator("button[type=submit]").click()
    with app.test_request_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        opted_out = messages.filter_message(Reason("opted_out", side="candidate"))
    expect(page.locator("#why-answer")).to_contain_text(opted_out)
    shot(page, "why-not")

    cards.first.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/pairings/\d+$"))
    shot(page, "proposed")
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    pairing = db.session.scalars(select(Pairing)).one()
    assert pairing.source is Source.SUGGESTION and pairing.involves(best) and pairing.involves(member)
