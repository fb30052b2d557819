"""A volunteer's main job, start to finish, on a desktop and on a phone: find a member by typing,
add a note, get suggestions, propose an introduction, record both members' answers, print the
introduction cards, and complete the follow-up the introduction created."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import func, select

from crm.extensions import db as _db
from crm.followups.models import FollowUp
from crm.members.models import Gender, Note
from crm.pairings.models import ConsentAnswer, Pairing, Stage
from tests.browser.journeys.conftest import VIEWPORTS
from tests.cards.helpers import pdf_pages_text
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser

NOTE = "周六在西湖边喝茶，他说想认识喜欢爬山的人。"
OUTCOME = "两人已加微信，约好下周去爬宝石山。"


def volunteer_scene():
    """A volunteer with a small caseload: 李明远 and the member the matching ranks first for him."""
    branch = make_branch(name="西湖区工会鹊桥驿站")
    volunteer = make_user("volunteer", branch=branch, display_name="王芳")
    groom = make_member(owner=volunteer, name="李明远", gender=Gender.MALE, interests=["hiking", "tea"],
                        settle_city="杭州市")
    bride = make_member(owner=volunteer, name="周婷婷", gender=Gender.FEMALE, interests=["hiking", "tea"],
                        settle_city="杭州市", wechat_id="zhoutt_88")
    others = [make_member(owner=volunteer, name=name, gender=Gender.FEMALE, interests=["films"],
                          home_city="北京市", home_district="海淀区", work_city="北京市", work_district="海淀区")
              for name in ("陈静", "刘洋")]
    _db.session.commit()
    data = {m.name for m in (groom, bride, *others)} | {m.phone for m in (groom, bride, *others)}
    data |= {m.wechat_id for m in (groom, bride, *others)} | {"李先生", "周女士", "北京市", "海淀区", "杭州市"}
    return volunteer, groom, bride, data


def fresh(db):
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session


@VIEWPORTS
def test_volunteer_from_search_to_a_completed_follow_up(db, journey, viewport):
    from crm.matching import service
    service.reset()
    volunteer, groom, bride, data = volunteer_scene()
    j = journey("volunteer", volunteer, data)
    page = j.page
    j.step("caseload")

    # 1. Find the member by typing the start of his name in pinyin: the list narrows as she types.
    page.goto("/members/search")
    results = page.locator("#results")
    expect(results).to_contain_text("陈静")
    page.locator("select[name=gender]").select_option("male")  # a filter applies as soon as it is chosen
    expect(results).not_to_contain_text("陈静")
    expect(page).to_have_url(re.compile(r"gender=male"))
    page.locator("#q").press_sequentially("liming", delay=40)
    expect(results).not_to_contain_text("陈静")
    expect(results).to_contain_text("李明远")
    expect(page).to_have_url(re.compile(r"q=liming"))
    j.step("live-search")

    results.get_by_role("link", name="李明远").click()
    expect(page).to_have_url(re.compile(rf"/members/{groom.id}$"))
    expect(page.locator("h1")).to_contain_text("李明远")
    j.step("case-file")

    # 2. A note, added in place.
    page.locator("#notes form.note-form textarea[name=body]").fill(NOTE)
    page.locator("#notes form.note-form button[type=submit]").click()
    expect(page.locator("#notes .timeline")).to_contain_text(NOTE)
    assert fresh(db).scalar(select(func.count()).select_from(Note).where(Note.member_id == groom.id)) == 1
    j.step("note-added")

    # 3. Suggestions: the best candidate first, anonymous until both say yes.
    page.locator(f".page-head a[href='/members/{groom.id}/suggestions']").click()
    expect(page).to_have_url(re.compile(rf"/members/{groom.id}/suggestions"))
    cards = page.locator("#suggestion-results .candidate")
    expect(cards.first).to_contain_text(str(bride.id))
    expect(page.locator("#suggestion-results")).not_to_contain_text("周婷婷")
    j.step("suggestions")

    # 4. Propose the first one.
    cards.first.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/pairings/\d+$"))
    pairing = fresh(db).scalars(select(Pairing)).one()
    assert pairing.involves(groom) and pairing.involves(bride)
    assert pairing.stage in (Stage.PROPOSED, Stage.AWAITING_CONSENT)
    expect(page.locator("form.consent-form")).to_have_count(2)  # she looks after both members
    j.step("proposed")

    # 5. Both members said yes on the phone; each answer is recorded with what may be shared.
    for member, share in ((groom, "share_phone"), (bride, "share_wechat")):
        form = page.locator("form.consent-form").filter(
            has=page.locator(f"input[name=member_id][value='{member.id}']"))
        form.locator("input[name=answer][value=yes]").check()
        form.locator("select[name=channel]").select_option("phone")
        form.locator(f"input[name={share}]").check()
        form.locator("button[type=submit]").click()
        expect(page.locator("form.consent-form").filter(
            has=page.locator(f"input[name=member_id][value='{member.id}']"))).to_have_count(0)
    expect(page.locator("#pipeline .stage-introduced")).to_be_visible()
    pairing = fresh(db).get(Pairing, pairing.id)
    assert pairing.stage is Stage.INTRODUCED
    assert {c.answer for c in pairing.consents} == {ConsentAnswer.YES}
    page.reload()
    expect(page.locator("#pipeline .stage-introduced")).to_be_visible()
    j.step("introduced")

    # 6. The introduction cards: a real PDF, one card per member naming the other as agreed.
    with page.expect_download() as download:
        page.locator("#print-cards").click()
    response = page.request.get(page.locator("#print-cards").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = download.value.path().read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2 and response.body().startswith(b"%PDF")
    card_for_groom, card_for_bride = pdf_pages_text(pdf)
    assert "周女士" in card_for_groom and "zhoutt_88" in card_for_groom
    assert "李先生" in card_for_bride and groom.phone in card_for_bride
    assert pairing.reference in card_for_groom

    # 7. The introduction left follow-ups; she calls, then marks the first one done.
    j.go("/followups/")
    expect(page).to_have_url(re.compile(r"/followups/"))
    rows = page.locator("#followup-list li.followup")
    open_before = fresh(db).scalar(select(func.count()).select_from(FollowUp).where(FollowUp.done_at.is_(None)))
    assert open_before >= 1
    expect(rows).to_have_count(open_before)
    first = rows.first
    row_id = first.get_attribute("id")
    j.step("follow-ups")
    first.locator("input[name=outcome]").fill(OUTCOME)
    first.locator("button[type=submit]").click()
    done = page.locator(f"#{row_id}")
    expect(done).to_contain_text(OUTCOME)
    expect(done.locator("form.complete")).to_have_count(0)
    j.step("follow-up-done")
    followup = fresh(db).get(FollowUp, int(row_id.removeprefix("followup-")))
    assert followup.done_at is not None and followup.outcome == OUTCOME and followup.pairing_id == pairing.id
