"""Statistics pages, exports (CSV, XLSX, PDF) behind a fresh password, capacity and its warning."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.extensions import db
from crm.members.models import Member
from crm.stats.exports import Table, neutralise, to_csv, to_xlsx
from tests import factories
from tests.factories import make_user
from tests.stats import scene

MARCH_Q = "start=2026-03-01&end=2026-03-31"


@pytest.fixture
def s(db):
    built = scene.build()
    db.session.commit()
    return built


def confirm_password(client, csrf):
    response = client.post("/confirm-password", data={"password": factories.PASSWORD, "next": "/stats/",
                                                      "csrf_token": csrf()})
    assert response.status_code == 302


def test_figures_page_shows_each_number_beside_its_definition(s, client, login_as):
    login_as("admin")
    page = client.get(f"/stats/?{MARCH_Q}&branch=").get_data(as_text=True)
    row = re.search(r'id="figure-members_served".*?</tr>', page, re.S).group(0)
    assert ">7<" in row and "Each person counts once" in row
    assert re.search(r'id="figure-introductions".*?>2<', page, re.S)
    assert 'role="img"' in page and "<title" in page and "<desc" in page


def test_supervisor_sees_own_branch_only(s, client, login_as):
    login_as("supervisor", branch=s.B)
    page = client.get(f"/stats/?{MARCH_Q}").get_data(as_text=True)
    assert re.search(r'id="figure-members_served".*?>3<', page, re.S)  # branch B
    assert "A 分会" not in page
    refused = client.get(f"/stats/?{MARCH_Q}&branch={s.A.id}")
    assert refused.status_code == 422 and "Choose a branch from the list." in refused.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("start=2026-03-31&end=2026-03-01", "The end of the period cannot be before its start."),
    ("start=yesterday&end=2026-03-01", "Not a valid date value."),
    ("start=2000-01-01&end=2026-03-01", "A period can be at most ten years long."),
    ("start=2026-03-01&end=2026-03-31&branch=999999999999999999999", "Choose a branch from the list."),
])
def test_bad_period_gets_a_message_beside_the_field(s, client, login_as, query, message):
    login_as("supervisor", branch=s.A)
    for url in ("/stats/", "/stats/dashboard"):
        response = client.get(f"{url}?{query}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(r'class="error" id="(start|end|branch)-error">[^<]*' + re.escape(message), page)


def test_dashboard_page(s, client, login_as):
    login_as("supervisor", branch=s.A)
    page = client.get(f"/stats/dashboard?{MARCH_Q}").get_data(as_text=True)
    assert "Pipeline funnel" in page and "over capacity" in page and "志愿者甲" in page
    assert 'class="risk-banner"' in page  # the supervisors' risk banner (dashboard = true)


def test_admin_dashboard_for_the_whole_union(s, client, login_as):
    login_as("admin")
    page = client.get(f"/stats/dashboard?{MARCH_Q}&branch=").get_data(as_text=True)
    assert "All branches" in page and "志愿者乙" in page and "志愿者甲" in page
    assert f'href="/stats/capacity/{s.vol_a.id}"' in page  # admins change a volunteer's capacity from here


def test_volunteer_and_counsellor_may_not_see_statistics(s, client, login_as):
    login_as("volunteer", branch=s.A)
    assert client.get("/stats/dashboard").status_code == 403
    assert client.get("/stats/export/figures.csv").status_code == 403


def test_export_needs_a_fresh_password(s, client, login_as):
    login_as("supervisor", branch=s.A)
    response = client.get(f"/stats/export/figures.csv?{MARCH_Q}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/confirm-password?next=")
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "stats.export")) == 0


def test_csv_and_xlsx_exports_are_checked_and_audited(s, client, login_as, csrf):
    admin = login_as("admin")
    confirm_password(client, csrf)
    response = client.get(f"/stats/export/figures.csv?{MARCH_Q}&branch={s.A.id}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Figures"] and rows[1][:2] == ["Figure", "Number"]
    values = {r[0]: r[1] for r in rows[2:] if len(r) > 1}
    assert values["Members served"] == "5" and values["Counselling sessions"] == "2"

    response = client.get(f"/stats/export/dashboard.xlsx?{MARCH_Q}&branch={s.A.id}")
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames[:3] == ["Pipeline funnel", "Monthly trends", "Why introductions closed"]
    funnel = list(book["Pipeline funnel"].iter_rows(values_only=True))
    assert funnel[1][:2] == ("Proposed", 2)
    volunteers = list(book["Volunteers"].iter_rows(values_only=True))
    assert ("志愿者甲", 6, 3, 0, 0) in volunteers
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "stats.export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.detail["report"], e.detail["format"], e.object_id) for e in entries] == [
        (admin.id, "figures", "csv", s.A.id), (admin.id, "dashboard", "xlsx", s.A.id)]
    assert client.get(f"/stats/export/nothing.csv?{MARCH_Q}").status_code == 404


def test_neutralise():
    for dangerous in ("=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("张三") == "张三" and neutralise(-5) == -5 and neutralise(2.5) == 2.5
    assert neutralise(None) == "" and neutralise("a=b") == "a=b"


def test_exports_neutralise_formulas_from_the_data(db):
    table = Table("=evil", ["Name", "n"], [["=cmd|' /C calc'!A0", 1], ["@SUM(1)", -3], ["普通", 2]])
    rows = list(csv.reader(io.StringIO(to_csv([table]).decode("utf-8-sig"))))
    assert rows[0] == ["'=evil"] and rows[2] == ["'=cmd|' /C calc'!A0", "1"] and rows[3] == ["'@SUM(1)", "-3"]
    sheet = load_workbook(io.BytesIO(to_xlsx([table]))).active
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s"
    assert sheet["B3"].value == -3


def test_names_with_formulas_are_neutralised_in_the_dashboard_export(s, client, login_as, csrf):
    make_user("volunteer", branch=s.A, display_name='=HYPERLINK("http://x")')
    db.session.commit()
    login_as("supervisor", branch=s.A)
    confirm_password(client, csrf)
    rows = list(csv.reader(io.StringIO(client.get(f"/stats/export/dashboard.csv?{MARCH_Q}")
                                       .get_data().decode("utf-8-sig"))))
    names = [r[0] for r in rows if r]
    assert "'=HYPERLINK(\"http://x\")" in names and '=HYPERLINK("http://x")' not in names
    book = load_workbook(io.BytesIO(client.get(f"/stats/export/dashboard.xlsx?{MARCH_Q}").get_data()))
    assert "'=HYPERLINK(\"http://x\")" in [c.value for c in book["Volunteers"]["A"]]


def test_annual_report_pdf(s, client, login_as, csrf):
    from pypdf import PdfReader

    login_as("admin")
    confirm_password(client, csrf)
    response = client.get(f"/stats/annual-report?year=2026&branch={s.A.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Annual report 2026" in text and "A 分会" in text
    assert "Members served" in text and "Each person counts once" in text
    assert "Pipeline funnel" in text and "Monthly trends" in text
    assert db.session.scalar(db.select(AuditEntry.detail).where(AuditEntry.action == "stats.export"))["format"] == "pdf"
    bad = client.get("/stats/annual-report?year=1900&branch=")
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)


def test_admin_sets_capacity(s, client, login_as, csrf):
    login_as("admin")
    response = client.post(f"/stats/capacity/{s.vol_a.id}", data={"max_caseload": "", "version": "1",
                                                                   "csrf_token": csrf()})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, s.vol_a.id).max_caseload is None
    bad = client.post(f"/stats/capacity/{s.vol_a.id}", data={"max_caseload": "-4", "version": "2",
                                                              "csrf_token": csrf()})
    assert bad.status_code == 422 and 'id="max_caseload-error"' in bad.get_data(as_text=True)
    assert client.get(f"/stats/capacity/{s.counsellor.id}").status_code == 404
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "user.capacity"))
    assert entry.detail == {"old": 3, "new": None}


def test_reassigning_above_capacity_warns_until_confirmed(s, client, login_as, csrf):
    login_as("supervisor", branch=s.A)
    other = make_user("volunteer", branch=s.A, max_caseload=0)
    db.session.commit()
    data = {"to_user_id": str(other.id), "reason": "休假交接", "csrf_token": csrf(), "from_owner": str(s.vol_a.id)}
    warned = client.post(f"/members/{s.a1.id}/reassign", data=data)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 422 and "more than their capacity of 0" in page and 'name="over_capacity_ok"' in page
    db.session.expire_all()
    assert db.session.get(Member, s.a1.id).owner_id == s.vol_a.id
    done = client.post(f"/members/{s.a1.id}/reassign", data={**data, "over_capacity_ok": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, s.a1.id).owner_id == other.id


def test_bulk_reassign_above_capacity_warns(s, client, login_as, csrf):
    login_as("supervisor", branch=s.A)
    other = make_user("volunteer", branch=s.A, max_caseload=1)
    db.session.commit()
    data = {"to_user_id": str(other.id), "reason": "平衡工作量", "member_ids": [str(s.a3.id), str(s.a4.id)],
            "next": "/members/search", "csrf_token": csrf()}
    warned = client.post("/members/reassign", data=data)
    assert warned.status_code == 422 and "more than their capacity of 1" in warned.get_data(as_text=True)
    asked = client.post("/members/reassign", data={**data, "over_capacity_ok": "y"})  # the capacity is accepted,
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in asked.get_data(as_text=True)  # then it asks
    db.session.expire_all()
    assert db.session.get(Member, s.a4.id).owner_id != other.id
    confirmed = {**data, "over_capacity_ok": "y", "confirmed": "1"}
    assert client.post("/members/reassign", data=confirmed).status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, s.a4.id).owner_id == other.id
