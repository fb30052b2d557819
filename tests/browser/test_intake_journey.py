"""Issue 8 intake journeys in the system Chromium: a worker applies on a phone, the supervisor assigns the
application to a volunteer, the volunteer finds the new member in their caseload; a roster import from
upload through preview to confirmation."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.intake.models import ApplicationStatus, IntakeApplication
from crm.members.models import Member
from tests.browser.conftest import log_in
from tests.factories import make_branch, make_member, make_user
from tests.intake.helpers import good_row, resident_id, xlsx_bytes

pytestmark = pytest.mark.browser


def _count(db, model) -> int:
    """A fresh count, ending the read so the next one sees what the server committed meanwhile."""
    count = db.session.scalar(select(func.count()).select_from(model))
    db.session.commit()
    return count


def test_worker_applies_on_a_phone_supervisor_assigns_volunteer_finds_member(db, fresh_context, shot):
    branch = make_branch(name="拱墅区总工会鹊桥驿站")
    make_branch(name="萧山区总工会鹊桥驿站")
    volunteer = make_user("volunteer", branch=branch, display_name="王芳")
    supervisor = make_user("supervisor", branch=branch, display_name="周主任")
    db.session.commit()

    # The worker opens the link of their service centre on a phone, without any account.
    phone = fresh_context(phone=True).new_page()
    phone.goto(f"/apply?branch={branch.id}")
    expect(phone.locator("select[name=branch_id]")).to_have_value(str(branch.id))
    shot(phone, "apply-empty")
    phone.locator("input[name=name]").fill("刘晓雯")
    phone.locator("input[name=gender][value=female]").check()
    phone.locator("input[name=birth_date]").fill("1995-06-12")
    phone.locator("input[name=id_number]").fill(resident_id("19950612", 8))
    phone.locator("select[name=education]").select_option("bachelor")
    phone.locator("input[name=phone]").fill("13655556666")
    phone.locator("input[name=employer]").fill("杭州公交集团")
    phone.locator("select[name=occupation_category]").select_option("transport")
    phone.locator("select[name=work_area]").select_option("杭州市/拱墅区")
    phone.locator("select[name=home_area]").select_option("杭州市/西湖区")
    phone.locator("input[name=interests][value=cooking]").check()
    phone.locator("input[name=consent_sharing]").check()
    # Forgetting the required consent: told beside it, everything typed is still there.
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#consent_processing-error")).to_be_visible()
    expect(phone.locator("input[name=name]")).to_have_value("刘晓雯")
    shot(phone, "apply-missing-consent")
    assert _count(db, IntakeApplication) == 0
    phone.locator("input[name=consent_processing]").check()
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url("**/apply/thanks")
    shot(phone, "apply-thanks")
    application = db.session.scalars(select(IntakeApplication)).one()

    # The supervisor finds it in the queue and gives it to the volunteer.
    sup = fresh_context().new_page()
    log_in(sup, supervisor)
    sup.locator("nav a[href='/intake/']").click()
    expect(sup.locator(f"#application-{application.id}")).to_contain_text("杭州公交集团")
    shot(sup, "queue")
    sup.locator(f"#application-{application.id} a").click()
    expect(sup.locator("main")).to_contain_text("杭州公交集团")
    sup.locator("select[name=owner_id]").select_option(str(volunteer.id))
    shot(sup, "application")
    sup.locator("form[action$='/accept'] button[type=submit]").click()
    sup.wait_for_url("**/members/*")
    shot(sup, "member-created")
    db.session.commit()
    member = db.session.scalars(select(Member)).one()
    assert member.owner_id == volunteer.id and application.status is ApplicationStatus.ACCEPTED

    # The volunteer finds the new member in their caseload, on a phone.
    vol = fresh_context(phone=True).new_page()
    log_in(vol, volunteer)
    vol.goto("/members/")
    expect(vol.locator("main")).to_contain_text("刘晓雯")
    vol.locator("main a", has_text="刘晓雯").first.click()
    vol.wait_for_url(f"**/members/{member.id}")
    shot(vol, "volunteer-case-file")


def test_roster_import_preview_and_confirm(db, fresh_context, shot, tmp_path, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    supervisor = make_user("supervisor", display_name="周主任")
    make_member(phone="13800000001")
    db.session.commit()
    rows = [good_row(n) for n in range(1, 8)]
    bad = good_row(20)
    bad[9] = "火星区"
    dup = good_row(21)
    dup[3] = "13800000001"
    workbook = tmp_path / "名单.xlsx"
    workbook.write_bytes(xlsx_bytes([*rows, bad, dup, good_row(3)]))

    page = fresh_context().new_page()
    log_in(page, supervisor)
    page.goto("/intake/import")
    shot(page, "upload")
    page.locator("input[name=file]").set_input_files(str(workbook))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/intake/import/*")
    expect(page.locator("#good-count")).to_contain_text("7")
    expect(page.locator("#bad-count")).to_contain_text("3")
    expect(page.locator("#row-9")).to_contain_text("火星区")
    shot(page, "preview")
    assert _count(db, Member) == 1
    page.locator("form[action$='/confirm'] button[type=submit]").click()
    page.wait_for_url("**/members/search**")
    shot(page, "imported")
    assert _count(db, Member) == 8
