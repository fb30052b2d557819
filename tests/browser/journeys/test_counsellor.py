"""A counsellor's main job on a desktop and on a phone: take a referral from the branch queue and
log a session with confidential notes (a form left incomplete is explained and keeps what was typed)."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import undefer

from crm.counselling.models import CounsellingSession, Referral, ReferralStatus, Risk, SessionMode, Topic
from crm.extensions import db as _db
from tests.browser.journeys.conftest import VIEWPORTS
from tests.counselling.helpers import make_referral
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser

NOTES = "她谈到父母催婚带来的压力，睡眠不好；下次练习怎样和父母沟通。"
SUMMARY = "会员愿意继续咨询，下周同一时间再谈。"


def counsellor_scene():
    """A branch queue with two open referrals; the counsellor's caseload is still empty."""
    branch = make_branch(name="拱墅区工会心理驿站")
    volunteer = make_user("volunteer", branch=branch, display_name="王芳")
    counsellor = make_user("counsellor", branch=branch, display_name="孙静")
    first = make_member(owner=volunteer, name="李晓梅")
    second = make_member(owner=volunteer, name="赵丽华")
    referral = make_referral(first, volunteer, reason="见面后情绪低落，希望和咨询师聊聊。")
    make_referral(second, volunteer, reason="工作压力大，想找人倾诉。")
    _db.session.commit()
    return counsellor, referral, {"李晓梅", "赵丽华", volunteer.display_name, "见面后情绪低落，希望和咨询师聊聊。",
                                  "工作压力大，想找人倾诉。"}


@VIEWPORTS
def test_counsellor_takes_a_referral_and_logs_a_session(db, journey, viewport):
    counsellor, referral, data = counsellor_scene()
    j = journey("counsellor", counsellor, data)
    page = j.page

    # 1. Home is the counselling page: two members wait in the branch queue, the caseload is empty.
    expect(page).to_have_url(re.compile(r"/counselling/$"))
    queue = page.locator("[aria-labelledby=h-queue] li")
    expect(queue).to_have_count(2)
    expect(page.locator("[aria-labelledby=h-caseload] .empty")).to_be_visible()
    j.step("queue")

    # 2. She takes 李晓梅's referral.
    queue.filter(has_text="李晓梅").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/counselling/referrals/{referral.id}$"))
    expect(page.locator("h1")).to_contain_text("李晓梅")
    expect(page.locator("#sessions .empty")).to_be_visible()
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    taken = db.session.get(Referral, referral.id)
    assert taken.status is ReferralStatus.ACCEPTED and taken.counsellor_id == counsellor.id
    j.step("referral-taken")

    # 3. The session form: without the confidential notes it says what is missing and keeps the rest.
    page.locator(f".page-head a[href$='/referrals/{referral.id}/sessions/new']").click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    page.locator("select[name=mode]").select_option("phone")
    page.locator("select[name=topic]").select_option("communication")
    page.locator("textarea[name=shareable_summary]").fill(SUMMARY)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("textarea[name=confidential_notes]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("textarea[name=shareable_summary]")).to_have_value(SUMMARY)
    expect(page.locator("select[name=topic]")).to_have_value("communication")
    db.session.rollback()
    assert db.session.scalars(select(CounsellingSession)).all() == []
    j.step("session-form-incomplete")

    page.locator("textarea[name=confidential_notes]").fill(NOTES)
    j.step("session-form-filled")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/counselling/referrals/{referral.id}$"))
    expect(page.locator("#sessions")).to_contain_text(NOTES)  # the author reads her own notes
    expect(page.locator("#sessions")).to_contain_text(SUMMARY)
    j.step("session-logged")
    db.session.rollback()
    notes = undefer(CounsellingSession.confidential_notes)
    logged = db.session.scalars(select(CounsellingSession).options(notes)).one()
    assert (logged.referral_id, logged.counsellor_id, logged.confidential_notes, logged.shareable_summary) \
        == (referral.id, counsellor.id, NOTES, SUMMARY)
    assert (logged.mode, logged.topic, logged.risk) == (SessionMode.PHONE, Topic.COMMUNICATION, Risk.NONE)

    # 4. Back home: the case is hers now, one member still waits.
    j.go("/counselling/")
    expect(page.locator("[aria-labelledby=h-caseload] tbody tr")).to_have_count(1)
    expect(page.locator("[aria-labelledby=h-caseload]")).to_contain_text("李晓梅")
    expect(page.locator("[aria-labelledby=h-queue] li")).to_have_count(1)
    j.step("caseload")
