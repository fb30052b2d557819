"""An administrator's main job on a desktop and on a phone: create a user account (a taken username
is explained beside the field, with everything typed kept), then download the statistics after
entering the password again (a wrong one is refused)."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.auth.models import Role, User
from crm.auth.passwords import check_password
from crm.extensions import db as _db
from tests.browser.conftest import log_in
from tests.browser.journeys.conftest import VIEWPORTS
from tests.factories import PASSWORD, make_branch, make_member, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "鹊桥-新志愿者-2026"


def admin_scene():
    """Two branches, an administrator, a volunteer already called ``liuyang``, and a few members."""
    city = make_branch(name="杭州市总工会")
    district = make_branch(name="滨江区工会服务站")
    admin = make_user("admin", branch=city, display_name="系统管理员", username="admin1")
    taken = make_user("volunteer", branch=district, display_name="刘洋", username="liuyang")
    for name in ("陈静", "李娜", "张伟"):
        make_member(owner=taken, name=name)
    _db.session.commit()
    return admin, district, {"杭州市总工会", "滨江区工会服务站", "刘洋", "liuyang", "liuyang2", "张晓红",
                             "admin1", "系统管理员"}


def fresh(db):
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session


@VIEWPORTS
def test_admin_creates_a_user_and_exports_the_statistics(db, journey, fresh_context, viewport):
    admin, district, data = admin_scene()
    j = journey("admin", admin, data)
    page = j.page

    # 1. Users: the list, then the form for a new volunteer.
    j.go("/admin/users")
    expect(page.locator("table tbody tr")).to_have_count(2)
    j.step("users")
    page.locator("a[href='/admin/users/new']").click()
    page.locator("input[name=username]").fill("liuyang")
    page.locator("input[name=display_name]").fill("张晓红")
    page.locator("select[name=branch]").select_option(str(district.id))
    page.locator("input[name=roles][value=VOLUNTEER]").check()
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    j.step("new-user-form")

    # A username that is taken: said beside the field, the rest kept, nobody created.
    page.locator("main form button[type=submit]").click()
    expect(page.locator("input[name=username]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=display_name]")).to_have_value("张晓红")
    expect(page.locator("select[name=branch]")).to_have_value(str(district.id))
    expect(page.locator("input[name=roles][value=VOLUNTEER]")).to_be_checked()
    assert fresh(db).scalar(select(User).where(User.display_name == "张晓红")) is None
    j.step("username-taken")

    page.locator("input[name=username]").fill("liuyang2")
    if not page.locator("input[name=password]").input_value():  # a password is never sent back to the page
        page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.locator(".flash-success")).to_contain_text("liuyang2")
    expect(page.locator("table tbody tr")).to_have_count(3)
    expect(page.locator("table tbody tr").filter(has_text="liuyang2")).to_contain_text("滨江区工会服务站")
    j.step("user-created")
    user = fresh(db).scalar(select(User).where(User.username == "liuyang2"))
    assert (user.display_name, user.branch_id, user.roles) == ("张晓红", district.id, Role.VOLUNTEER)
    assert check_password(user.password_hash, NEW_PASSWORD)

    # 2. Statistics for the whole union: downloading asks for the password again first.
    j.go("/stats/dashboard")
    expect(page).to_have_url(re.compile(r"/stats/dashboard"))
    page.locator("main a[href='/stats/'], main a[href^='/stats/?']").first.click()  # figures and definitions
    expect(page).to_have_url(re.compile(r"/stats/(\?.*)?$"))
    j.step("figures")
    page.locator(".stats-exports a").click()
    expect(page).to_have_url(re.compile(r"/confirm-password"))
    page.locator("input[name=password]").fill("not my password")
    page.locator("form[action*='confirm-password'] button[type=submit]").click()
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")
    assert fresh(db).scalar(select(AuditEntry).where(AuditEntry.action == "stats.export")) is None
    j.step("wrong-password")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action*='confirm-password'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/stats/(\?.*)?$"))
    expect(page.locator(".stats-exports a[href*='figures.csv']")).to_be_visible()
    j.step("downloads-ready")

    with page.expect_download() as download:
        page.locator(".stats-exports a[href*='figures.csv']").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) > 5
    entry = fresh(db).scalar(select(AuditEntry).where(AuditEntry.action == "stats.export"))
    assert entry.actor_id == admin.id and entry.detail["report"] == "figures" and entry.detail["format"] == "csv"

    # 3. The new volunteer signs in with the initial password and finds their (empty) caseload.
    newcomer = fresh_context(phone=viewport == "phone").new_page()
    log_in(newcomer, user, password=NEW_PASSWORD)
    expect(newcomer).to_have_url(re.compile(r"/members/$"))
    expect(newcomer.locator(".account .who")).to_contain_text("张晓红")
