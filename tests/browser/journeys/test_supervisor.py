"""A supervisor's main job on a desktop and on a phone: verify a new member (the three checks), give
pool members to a volunteer in one go, and read the dashboard that shows the result."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.clock import now_utc, today
from crm.extensions import db as _db
from crm.followups.models import FollowUp, FollowUpKind
from crm.members.models import Assignment, Member, MemberStatus
from tests.browser.journeys.conftest import VIEWPORTS
from tests.factories import make_branch, make_member, make_user

pytestmark = pytest.mark.browser

REASON = "新会员分配给王芳跟进。"


def supervisor_scene():
    """A branch: a supervisor, two volunteers, a newcomer waiting for the checks, three pool members,
    and one follow-up of 王芳 that is overdue."""
    branch = make_branch(name="西湖区工会服务站")
    supervisor = make_user("supervisor", branch=branch, display_name="周主任")
    wang = make_user("volunteer", branch=branch, display_name="王芳")
    chen = make_user("volunteer", branch=branch, display_name="陈刚")
    newcomer = make_member(owner=wang, name="林小雨", verified=False, consent_at=now_utc(),
                           consent_recorded_by_id=wang.id)
    pool = [make_member(branch=branch, owner=None, name=name) for name in ("孙丽", "钱伟", "吴静")]
    make_member(owner=chen, name="郑强")
    _db.session.add(FollowUp(assignee=wang, member=newcomer, due_on=today() - timedelta(days=3),
                             kind=FollowUpKind.OTHER, title="电话确认单身承诺书"))
    _db.session.commit()
    names = {"林小雨", "孙丽", "钱伟", "吴静", "郑强", "王芳", "陈刚", "电话确认单身承诺书"}
    return supervisor, wang, newcomer, pool, names


def member_row(page, name):
    return page.locator("#results tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


@VIEWPORTS
def test_supervisor_verifies_reassigns_and_reads_the_dashboard(db, journey, viewport):
    supervisor, wang, newcomer, pool, data = supervisor_scene()
    j = journey("supervisor", supervisor, data)
    page = j.page
    j.step("home")

    # 1. The newcomer's case file: consent is on file, the three checks wait for a supervisor.
    j.go("/members/search")
    expect(page).to_have_url(re.compile(r"/members/search$"))
    page.locator("#q").press_sequentially("林小雨", delay=60)
    expect(page).to_have_url(re.compile(r"q=%E6%9E%97%E5%B0%8F%E9%9B%A8"))  # the search for all she typed
    expect(page.locator("#results tbody tr")).to_have_count(1)
    member_row(page, "林小雨").get_by_role("link", name="林小雨").click()
    expect(page).to_have_url(re.compile(rf"/members/{newcomer.id}$"))
    checks = page.locator("#verification")
    expect(checks.locator("li.todo")).to_have_count(3)
    expect(checks.locator("li.done")).to_have_count(1)
    j.step("newcomer-case-file")

    for done in (2, 3, 4):
        checks.locator("li.todo button[type=submit]").first.click()
        expect(checks.locator("li.done")).to_have_count(done)
    expect(checks.locator("li.todo")).to_have_count(0)
    expect(checks).to_contain_text("周主任")  # who checked, beside each step
    # The last check made her active: the whole page says so, not only the checklist.
    expect(page.locator(".page-head .status-active")).to_be_visible()
    expect(page.locator("select[name=status]")).to_have_value("active")
    expect(page.locator(".flash-success")).to_be_visible()
    j.step("verified")
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    member = db.session.get(Member, newcomer.id)
    assert member.status is MemberStatus.ACTIVE
    assert {member.realname_verified_by_id, member.employer_verified_by_id, member.pledge_recorded_by_id} \
        == {supervisor.id}

    # 2. The pool: two of the three members go to 王芳 in one go, with the reason.
    page.goto("/members/search?owner=pool")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    for m in pool[:2]:
        page.locator(f"#sel-{m.id}").check()
    bulk = page.locator("form#bulk")
    bulk.locator("select[name=to_user_id]").select_option(str(wang.id))
    bulk.locator("input[name=reason]").fill(REASON)
    j.step("pool-selected")
    bulk.locator("button[type=submit]").click()
    # It asks first, naming how many members go to whom; nothing has moved yet.
    confirm = page.locator("form.confirm-step")
    expect(confirm).to_contain_text("王芳")
    j.step("reassign-confirm")
    confirm.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("吴静")
    j.step("reassigned")
    db.session.rollback()
    owners = dict(db.session.execute(select(Member.id, Member.owner_id).where(
        Member.id.in_([m.id for m in pool]))).all())
    assert owners == {pool[0].id: wang.id, pool[1].id: wang.id, pool[2].id: None}
    assert set(db.session.scalars(select(Assignment.reason).where(
        Assignment.member_id.in_([m.id for m in pool[:2]])))) == {REASON}

    # 3. The dashboard: 王芳 now has three open cases, one overdue follow-up needs attention.
    j.go("/stats/dashboard")
    expect(page).to_have_url(re.compile(r"/stats/dashboard"))
    expect(page.locator("svg.chart").first).to_be_visible()
    attention = page.locator("#attention li")
    expect(attention.nth(2)).to_contain_text("1")  # the overdue follow-up
    rows = page.locator("table:has(th[scope=row]) tbody tr")
    expect(rows.filter(has_text="王芳").locator("td").first).to_have_text(re.compile(r"^\s*3\b"))
    expect(rows.filter(has_text="陈刚").locator("td").first).to_have_text(re.compile(r"^\s*1\b"))
    j.step("dashboard")
