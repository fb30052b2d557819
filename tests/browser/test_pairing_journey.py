"""Issue 3 journey in the system Chromium: two volunteers take an introduction from the proposal
to `introduced` (each records their own member's answer), then move it to `dating`."""

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.members.models import Gender
from crm.pairings.models import Pairing, Stage
from tests.browser.conftest import log_in
from tests.cards.helpers import pdf_pages_text
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser


def stage_of(db, pairing_id):
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.get(Pairing, pairing_id).stage


def test_two_volunteers_take_a_pairing_from_proposal_to_dating(db, fresh_context, shot):
    branch = make_branch(name="拱墅区工会鹊桥驿站")
    wang = make_user("volunteer", branch=branch, display_name="王芳")
    chen = make_user("volunteer", branch=branch, display_name="陈刚")
    groom = make_member(owner=wang, name="赵明远", gender=Gender.MALE)
    bride = make_member(owner=chen, name="孙雅婷", gender=Gender.FEMALE, wechat_id="sunyating_88")
    db.session.commit()

    first = fresh_context().new_page()
    log_in(first, wang)
    first.goto(f"/members/{groom.id}")
    first.locator(f"a[href='/pairings/propose/{groom.id}']").click()
    candidate = first.locator(".candidate").filter(has=first.locator(f"input[name=member_id][value='{bride.id}']"))
    expect(candidate).not_to_contain_text("孙雅婷")
    shot(first, "candidates")
    candidate.locator("button[type=submit]").click()
    first.wait_for_url("**/pairings/*")
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    pairing = db.session.scalars(select(Pairing)).one()
    assert pairing.stage is Stage.AWAITING_CONSENT
    expect(first.locator("#pipeline")).not_to_contain_text("孙雅婷")

    consent = first.locator("form.consent-form")
    consent.locator("input[name=answer][value=yes]").check()
    consent.locator("input[name=share_phone]").check()
    consent.locator("button[type=submit]").click()
    expect(first.locator("form.consent-form")).to_have_count(0)
    shot(first, "first-answer")

    second = fresh_context().new_page()
    log_in(second, chen)
    second.goto("/pairings/inbox")
    second.locator(f"a[href='/pairings/{pairing.id}']").first.click()
    expect(second.locator("main")).not_to_contain_text("赵明远")
    consent = second.locator("form.consent-form")
    consent.locator("input[name=answer][value=yes]").check()
    consent.locator("input[name=share_wechat]").check()
    consent.locator("button[type=submit]").click()
    expect(second.locator("#pipeline .stage-introduced")).to_be_visible()
    assert stage_of(db, pairing.id) is Stage.INTRODUCED
    second.reload()
    expect(second.locator("main")).to_contain_text("赵先生")  # courtesy name: full name not shared
    expect(second.locator("main")).to_contain_text(groom.phone)
    shot(second, "introduced")

    # Print the introduction cards: one A6 card per member, each showing only what the other agreed to.
    with second.expect_download() as download:
        second.locator("#print-cards").click()
    card_for_groom, card_for_bride = pdf_pages_text(Path(download.value.path()).read_bytes())
    assert "孙女士" in card_for_groom and "sunyating_88" in card_for_groom and "孙雅婷" not in card_for_groom
    assert "赵先生" in card_for_bride and groom.phone in card_for_bride and "赵明远" not in card_for_bride

    first.reload()
    expect(first.locator("main")).to_contain_text("sunyating_88")
    first.locator("button[name=to][value=dating]").click()
    expect(first.locator("#pipeline .stage-dating")).to_be_visible()
    assert stage_of(db, pairing.id) is Stage.DATING
    shot(first, "dating")
