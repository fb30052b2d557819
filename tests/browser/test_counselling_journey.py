"""Issue 5 journey in the system Chromium: a volunteer refers a member, a counsellor takes the referral
and logs a session with a high risk flag, the supervisor sees the alert and acknowledges it, and the
volunteer sees the shareable summary but never the confidential notes."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.counselling.models import Referral, ReferralStatus, RiskAlert
from tests.browser.conftest import log_in
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser

NOTES = "机密记录-JOURNEY-仅咨询师可见"
SUMMARY = "会员同意分享：下次练习表达需求"


def test_referral_session_risk_alert_and_acknowledgement(db, fresh_context, shot):
    branch = make_branch(name="拱墅区工会鹊桥驿站")
    volunteer = make_user("volunteer", branch=branch, display_name="王芳")
    supervisor = make_user("supervisor", branch=branch, display_name="周主任")
    counsellor = make_user("counsellor", branch=branch, display_name="孙静")
    member = make_member(owner=volunteer, name="李晓梅")
    db.session.commit()

    # The volunteer refers the member from the case file, with the member's consent.
    vol = fresh_context().new_page()
    log_in(vol, volunteer)
    vol.goto(f"/members/{member.id}")
    panel = vol.locator("#counselling")
    panel.locator("details.refer summary").click()
    panel.locator("textarea[name=reason]").fill("见面后情绪低落，希望和咨询师聊聊。")
    panel.locator("input[name=consent]").check()
    panel.locator("select[name=consent_channel]").select_option("wechat")
    shot(vol, "referral-form")
    panel.locator("form button[type=submit]").click()
    vol.wait_for_url(f"**/members/{member.id}**")
    expect(vol.locator("#counselling .referral")).to_have_count(1)
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    referral = db.session.scalars(select(Referral).where(Referral.member_id == member.id)).one()
    assert referral.status is ReferralStatus.OPEN

    # The counsellor lands on their home, takes the referral from the queue and logs a session.
    cou = fresh_context().new_page()
    log_in(cou, counsellor)
    expect(cou).to_have_url(re.compile(r"/counselling/$"))
    expect(cou.locator("main")).to_contain_text("李晓梅")
    shot(cou, "counsellor-queue")
    cou.locator(f"form[action$='/referrals/{referral.id}/accept'] button").first.click()
    cou.wait_for_url(f"**/counselling/referrals/{referral.id}")
    cou.locator(f"a[href$='/referrals/{referral.id}/sessions/new']").first.click()
    cou.wait_for_url("**/sessions/new")
    cou.locator("select[name=mode]").select_option("phone")
    cou.locator("select[name=topic]").select_option("psychological")
    cou.locator("textarea[name=confidential_notes]").fill(NOTES)
    cou.locator("textarea[name=shareable_summary]").fill(SUMMARY)
    cou.locator("select[name=risk]").select_option("high")
    shot(cou, "session-form")
    cou.locator("main form button[type=submit]").click()
    cou.wait_for_url(f"**/counselling/referrals/{referral.id}")
    expect(cou.locator("#sessions")).to_contain_text(NOTES)  # the author reads their own notes
    shot(cou, "session-logged")

    # The supervisor sees the alert at once, on any page, and acknowledges it.
    sup = fresh_context().new_page()
    log_in(sup, supervisor)
    banner = sup.locator(".risk-banner")
    expect(banner).to_be_visible()
    shot(sup, "supervisor-banner")
    banner.locator("a").click()
    sup.wait_for_url("**/counselling/alerts")
    expect(sup.locator("main")).to_contain_text("李晓梅")
    assert NOTES not in sup.content()
    sup.locator("form[action*='/acknowledge'] button").click()
    expect(sup.locator("form[action*='/acknowledge']")).to_have_count(0)
    expect(sup.locator(".risk-banner")).to_have_count(0)
    shot(sup, "acknowledged")
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    alert = db.session.scalars(select(RiskAlert)).one()
    assert alert.acknowledged_by_id == supervisor.id and alert.acknowledged_at is not None

    # The volunteer sees the summary and the risk level, never the notes.
    vol.goto(f"/members/{member.id}")
    expect(vol.locator("#counselling")).to_contain_text(SUMMARY)
    expect(vol.locator("#counselling .risk-high")).to_have_count(1)
    assert NOTES not in vol.content()
    vol.goto(f"/counselling/referrals/{referral.id}")
    expect(vol.locator("#sessions")).to_contain_text(SUMMARY)
    assert NOTES not in vol.content()
    shot(vol, "volunteer-sees-summary")
