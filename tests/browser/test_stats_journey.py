"""A supervisor reads the dashboard and the figures with their definitions, confirms their password
and downloads the figures as Excel and the annual report as PDF."""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from crm.extensions import db as _db
from tests.browser.conftest import log_in
from tests.factories import make_user
from tests.stats import scene

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_dashboard_and_downloads_reports(app, db, fresh_context, shot):
    s = scene.build()
    supervisor = make_user("supervisor", branch=s.A, display_name="王主管")
    _db.session.commit()
    page = fresh_context().new_page()
    log_in(page, supervisor)

    # 1. From the navigation to the dashboard, then March 2026.
    page.locator("nav a[href='/stats/dashboard']").click()
    expect(page.locator("h1")).to_contain_text("Supervisor dashboard")
    page.locator("input[name=start]").fill("2026-03-01")
    page.locator("input[name=end]").fill("2026-03-31")
    page.locator("form.stats-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"start=2026-03-01"))
    expect(page.locator("svg.chart[role=img]").first).to_be_visible()
    expect(page.locator(".risk-banner")).to_be_visible()
    expect(page.locator("#attention")).to_contain_text("1")
    shot(page, "dashboard")

    # 2. A period that ends before it starts: the message beside the field, the values kept.
    page.locator("input[name=end]").fill("2026-02-01")
    page.locator("form.stats-filter button[type=submit]").click()
    expect(page.locator("#end-error")).to_contain_text("cannot be before its start")
    expect(page.locator("input[name=end]")).to_have_value("2026-02-01")
    shot(page, "bad-period")

    # 3. The figures with their definitions.
    page.goto("/stats/?start=2026-03-01&end=2026-03-31")
    expect(page.locator("#figure-members_served")).to_contain_text("5")
    expect(page.locator("#figure-members_served")).to_contain_text("Each person counts once")
    shot(page, "figures")

    # 4. Downloads ask for the password first, then come back here.
    page.locator(".stats-exports a").click()
    expect(page).to_have_url(re.compile(r"/confirm-password"))
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form[action*='confirm-password'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/stats/\?start=2026-03-01"))
    with page.expect_download() as download_info:
        page.locator(".stats-exports a[href*='figures.xlsx']").click()
    book = load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    values = {row[0]: row[1] for row in book["Figures"].iter_rows(min_row=2, values_only=True)}
    assert values["Members served"] == 5 and values["Introductions made"] == 2

    page.locator("select[name=year]").select_option("2026")
    shot(page, "annual-report-form")
    with page.expect_download() as download_info:
        page.locator("form[action='/stats/annual-report'] button[type=submit]").click()
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader
    assert "Annual report 2026" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    # 5. On a phone the dashboard still reads: charts shrink, tables stack.
    phone = fresh_context(phone=True).new_page()
    log_in(phone, supervisor)
    phone.goto("/stats/dashboard?start=2026-03-01&end=2026-03-31")
    expect(phone.locator("svg.chart").first).to_be_visible()
    shot(phone, "dashboard-phone")
