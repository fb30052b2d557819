"""Roster import: read an .xlsx or .csv (UTF-8 or GB18030/GBK, as Chinese Excel saves it), check every
row, and insert the good rows in one transaction with bulk inserts.

Reading and checking never write; ``import_rows`` only flushes (the view commits once, so a failure
anywhere leaves nothing). Imported members land in the chosen branch's pool with status intake and
no verification: the roster proves nothing about identity or consent, so a volunteer still checks
each person and records their consents (crm.privacy) before they are suggested to anyone.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit.services import record
from crm.clock import now_utc, today
from crm.errors import Refusal
from crm.extensions import db
from crm.members import vocab
from crm.members.models import Education, Gender, MaritalHistory, Member, MemberStatus, Tier, id_number_hash
from crm.members.pinyin import name_keys
from crm.validators import is_person_name, resident_id_is_valid


@dataclass(frozen=True)
class Column:
    key: str
    label: object          # lazy English msgid, shown translated
    zh: str                # the Chinese header of the template workbook (always accepted)
    required: bool
    aliases: tuple = ()


COLUMNS = (
    Column("name", _l("Name"), "姓名", True),
    Column("gender", _l("Gender"), "性别", True),
    Column("birth_date", _l("Date of birth"), "出生日期", True, ("出生年月日", "生日")),
    Column("phone", _l("Mobile phone"), "手机号", True, ("手机", "手机号码", "联系电话", "电话")),
    Column("id_number", _l("Resident ID number"), "身份证号", False, ("身份证", "身份证号码")),
    Column("employer", _l("Employer"), "工作单位", True, ("单位",)),
    Column("union_name", _l("Trade union"), "所属工会", False, ("工会",)),
    Column("occupation_category", _l("Occupation category"), "职业类别", False, ("职业",)),
    Column("education", _l("Education"), "学历", True),
    Column("marital_history", _l("Marital history"), "婚史", True, ("婚姻状况",)),
    Column("height_cm", _l("Height (cm)"), "身高", False, ("身高cm", "身高(cm)")),
    Column("work_area", _l("Work district"), "工作区域", True, ("工作地",)),
    Column("home_area", _l("Home district"), "居住区域", True, ("居住地",)),
    Column("wechat_id", _l("WeChat ID"), "微信号", False, ("微信",)),
)

# Chinese words a roster uses for the coded fields (the English keys and labels are accepted too).
GENDER_WORDS = {"男": Gender.MALE, "女": Gender.FEMALE}
EDUCATION_WORDS = {"初中": Education.JUNIOR, "初中及以下": Education.JUNIOR, "高中": Education.HIGH_SCHOOL,
                   "中专": Education.HIGH_SCHOOL, "职高": Education.HIGH_SCHOOL, "大专": Education.ASSOCIATE,
                   "专科": Education.ASSOCIATE, "本科": Education.BACHELOR, "大学": Education.BACHELOR,
                   "硕士": Education.MASTER, "研究生": Education.MASTER, "博士": Education.DOCTORATE}
MARITAL_WORDS = {"未婚": MaritalHistory.NEVER, "离异": MaritalHistory.DIVORCED, "离婚": MaritalHistory.DIVORCED,
                 "丧偶": MaritalHistory.WIDOWED}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_TEXT = {"name": 40, "employer": 100, "union_name": 100, "wechat_id": 40}


def _norm_header(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().lower()
    return re.sub(r"[\s*:：()（）]", "", text)


def _header_map() -> dict[str, str]:
    """Accepted headings: the key, the Chinese heading and its aliases, the label in English and in
    the user's language."""
    from flask_babel import force_locale

    with force_locale("en"):
        english = {c.key: str(c.label) for c in COLUMNS}
    out = {}
    for c in COLUMNS:
        for name in (c.key, c.zh, str(c.label), english[c.key], *c.aliases):
            out[_norm_header(name)] = c.key
    return out


# --- Reading the file ----------------------------------------------------------------------------

def sniff(content: bytes) -> str:
    """"xlsx" or "csv" by content (never by the file name); Refusal for anything else."""
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise Refusal(_l("This is an old .xls workbook: save it as .xlsx (Excel workbook) or .csv and upload again."),
                      field="file")
    if not content.strip() or b"\x00" in content[:65536]:
        raise Refusal(_l("This file is not a spreadsheet. Upload an .xlsx workbook or a .csv file."), field="file")
    return "csv"


def decode_csv(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")   # a superset of GBK and GB2312, which Chinese Excel writes
    except UnicodeDecodeError:
        raise Refusal(_l("The file's text encoding is not UTF-8 or GBK."), field="file") from None


#: Columns read at most: a roster has 14, a unit's own list a few more (序号, 备注...). Cells right of the
#: last heading, or beyond this, are never read: one stray cell at column XFD would otherwise pad every row
#: to 16,384 cells (openpyxl pads read-only rows to the sheet's dimension), hundreds of MB for a small file.
MAX_COLUMNS = 100


def _width(header) -> int:
    """How many columns to read: up to the last non-empty heading among the first MAX_COLUMNS (all of
    them when the first row is empty)."""
    texts = [_cell_text(v) for v in list(header)[:MAX_COLUMNS]]
    return next((i + 1 for i in range(len(texts) - 1, -1, -1) if texts[i]), MAX_COLUMNS)


def _trimmed(row, width: int) -> list:
    """The row cut to ``width`` columns, without its trailing empty cells."""
    row = list(row[:width])
    while row and _cell_text(row[-1]) == "":
        row.pop()
    return row


def read_table(content: bytes) -> list[list[str]]:
    """All rows (header first) as lists of cell texts, at most IMPORT_MAX_ROWS data rows and the columns up
    to the last heading (``_width``). Refuses a file with no text at all."""
    limit = current_app.config["IMPORT_MAX_ROWS"] + 1
    kind = sniff(content)
    rows: list[list] = []
    if kind == "xlsx":
        from openpyxl import load_workbook
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises zipfile, KeyError, XML errors... for damaged or foreign files
            raise Refusal(_l("This file is not a spreadsheet. Upload an .xlsx workbook or a .csv file."),
                          field="file") from None
        try:
            sheet = workbook.worksheets[0]
            width = _width(next(sheet.iter_rows(max_row=1, values_only=True), ()))
            for row in sheet.iter_rows(max_col=width, values_only=True):
                rows.append(_trimmed(row, width))
                if len(rows) > limit:
                    break
        except Exception:
            raise Refusal(_l("This file is not a spreadsheet. Upload an .xlsx workbook or a .csv file."),
                          field="file") from None
        finally:
            workbook.close()
    else:
        try:
            width = None
            for row in csv.reader(io.StringIO(decode_csv(content), newline="")):
                width = width or _width(row)
                rows.append(_trimmed(row, width))
                if len(rows) > limit:
                    break
        except csv.Error:
            raise Refusal(_l("This file is not a spreadsheet. Upload an .xlsx workbook or a .csv file."),
                          field="file") from None
    if len(rows) > limit:
        raise Refusal(_l("The file has more than %(num)d rows. Split it into smaller files.",
                         num=limit - 1), field="file")
    if not any(rows):  # an empty first sheet, or a CSV that is only a byte-order mark or blank lines
        raise Refusal(_l("The file is empty.") if kind == "csv" else
                      _l("The workbook's first sheet is empty. Put the roster on the first sheet."), field="file")
    # Text cells (dates as ISO dates): the table is kept as JSON between preview and confirm, so the
    # workbook is parsed once.
    return [[_cell_text(v) for v in row] for row in rows]


# --- Checking rows -------------------------------------------------------------------------------

@dataclass
class Row:
    line: int                       # the row number as the spreadsheet shows it (header is 1)
    cells: dict                     # column key -> the text as read, for the preview and the rejects file
    problems: list = field(default_factory=list)
    values: dict | None = None      # Member attributes when the row is good


@dataclass
class Parsed:
    rows: list
    missing_columns: list

    @property
    def good(self):
        return [r for r in self.rows if not r.problems]

    @property
    def bad(self):
        return [r for r in self.rows if r.problems]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    match = (re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
             or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def parse_area(text: str) -> str | None:
    """"city/district" from 杭州市/西湖区, 杭州市西湖区 or a district that only one city has."""
    text = text.replace(" ", "")
    city, sep, district = text.partition("/")
    if sep:
        return text if vocab.is_known_area(text) else None
    for city, districts in vocab.CITIES.items():
        if text.startswith(city) and text[len(city):] in districts:
            return f"{city}/{text[len(city):]}"
    matches = [f"{c}/{text}" for c, districts in vocab.CITIES.items() if text in districts]
    return matches[0] if len(matches) == 1 else None


def _coded(text: str, enum_class, words: dict):
    lowered = text.lower()
    if lowered in words:
        return words[lowered]
    for member in enum_class:
        if lowered in (member.value, str(member.label).lower()):
            return member
    return None


def _occupation(text: str) -> str | None:
    if not text:
        return "other"
    lowered = text.lower()
    for key, label in vocab.OCCUPATION_CATEGORIES.items():
        if lowered in (key, str(label).lower()):
            return key
    return None


def check_rows(table: list[list]) -> Parsed:
    """Every row's problems, with the duplicates within the file and against the members."""
    headers = _header_map()
    positions = {}
    for index, heading in enumerate(table[0] if table else []):  # read_table refuses an empty file
        key = headers.get(_norm_header(heading))
        if key and key not in positions:
            positions[key] = index
    missing = [c for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        return Parsed([], [str(c.label) for c in missing])
    secret = current_app.config["SECRET_KEY"]
    today_ = today()
    rows = []
    for line, raw in enumerate(table[1:], start=2):
        raw_cells = {key: (raw[i] if i < len(raw) else None) for key, i in positions.items()}
        cells = {key: _cell_text(v) for key, v in raw_cells.items()}
        if not any(cells.values()):
            continue  # blank lines at the end of a sheet
        row = Row(line, cells)
        rows.append(row)
        _check_row(row, raw_cells, secret, today_)
    _mark_duplicates(rows)
    return Parsed(rows, [])


def _check_row(row: Row, raw: dict, secret: str, today_: date) -> None:
    c, problems = row.cells, row.problems
    for column in COLUMNS:
        if column.required and not c.get(column.key):
            problems.append(_("%(column)s is missing.", column=column.label))
    for key, text in c.items():
        if _CONTROL.search(text):
            problems.append(_("%(column)s contains invisible control characters.", column=_label(key)))
            return
        if key in _MAX_TEXT and len(text) > _MAX_TEXT[key]:
            problems.append(_("%(column)s is too long.", column=_label(key)))
    values: dict = {key: c.get(key) or None for key in ("employer", "union_name", "wechat_id")}
    if c.get("name"):
        if not is_person_name(c["name"]):
            problems.append(_("The name may contain only letters, spaces and the middle dot (·)."))
        values["name"] = c["name"]
    if c.get("gender"):
        values["gender"] = _coded(c["gender"], Gender, GENDER_WORDS)
        if values["gender"] is None:
            problems.append(_("Unknown gender: %(value)s.", value=c["gender"]))
    if c.get("birth_date"):
        born = parse_date(raw.get("birth_date"))
        if born is None:
            problems.append(_("The date of birth is not a date: %(value)s.", value=c["birth_date"]))
        elif born > today_:
            problems.append(_("The date of birth is in the future."))
        else:
            age = today_.year - born.year - ((today_.month, today_.day) < (born.month, born.day))
            if not 18 <= age <= 70:
                problems.append(_("Members must be between 18 and 70 years old."))
        values["birth_date"] = born
    if c.get("phone"):
        phone = c["phone"].replace(" ", "").replace("-", "")
        if not re.fullmatch(r"1[3-9][0-9]{9}", phone):
            problems.append(_("Not a valid mobile number: %(value)s.", value=c["phone"]))
        values["phone"] = phone
    if c.get("id_number"):
        number = c["id_number"].upper()
        if not resident_id_is_valid(number):
            problems.append(_("Not a valid resident ID number."))
        elif values.get("birth_date") and number[6:14] != values["birth_date"].strftime("%Y%m%d"):
            problems.append(_("The ID number does not match the date of birth."))
        else:
            values["id_last4"] = number[-4:]
            values["id_hash"] = id_number_hash(secret, number)
    for key, enum_class, words in (("education", Education, EDUCATION_WORDS),
                                   ("marital_history", MaritalHistory, MARITAL_WORDS)):
        if c.get(key):
            values[key] = _coded(c[key], enum_class, words)
            if values[key] is None:
                problems.append(_("Unknown %(column)s: %(value)s.", column=_label(key), value=c[key]))
    values["occupation_category"] = _occupation(c.get("occupation_category", ""))
    if values["occupation_category"] is None:
        problems.append(_("Unknown %(column)s: %(value)s.", column=_label("occupation_category"),
                          value=c["occupation_category"]))
    if c.get("height_cm"):
        try:
            height = int(float(c["height_cm"]))
        except (ValueError, OverflowError):  # "abc", "nan"; "inf", "1e400"
            height = None
        if height is None or not 120 <= height <= 230:
            problems.append(_("The height must be a number of centimetres between 120 and 230."))
        values["height_cm"] = height
    for key in ("work_area", "home_area"):
        if c.get(key):
            area = parse_area(c[key])
            if area is None:
                problems.append(_("Unknown district: %(value)s.", value=c[key]))
            values[key] = area
    if not problems:
        row.values = values


def _label(key: str) -> str:
    return str(next(c.label for c in COLUMNS if c.key == key))


def _mark_duplicates(rows: list[Row]) -> None:
    """Duplicates within the file (the later row is refused) and of existing members (phone or ID)."""
    first_phone, first_id = {}, {}
    for row in rows:
        if row.values is None:
            continue
        phone, id_hash = row.values["phone"], row.values.get("id_hash")
        earlier = first_phone.get(phone) or (first_id.get(id_hash) if id_hash else None)
        if earlier:
            row.problems.append(_("Duplicate of row %(line)d in this file.", line=earlier))
            row.values = None
            continue
        first_phone[phone] = row.line
        if id_hash:
            first_id[id_hash] = row.line
    good = [r for r in rows if r.values is not None]
    phones, hashes = set(), set()
    for chunk in _chunks([r.values["phone"] for r in good], 500):
        phones |= set(db.session.scalars(select(Member.phone).where(Member.phone.in_(chunk))))
    for chunk in _chunks([r.values["id_hash"] for r in good if r.values.get("id_hash")], 500):
        hashes |= set(db.session.scalars(select(Member.id_hash).where(Member.id_hash.in_(chunk))))
    for row in good:
        if row.values["phone"] in phones or row.values.get("id_hash") in hashes:
            row.problems.append(_("Already a member (same mobile phone or ID number)."))
            row.values = None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Importing ---------------------------------------------------------------------------------

def _member_row(values: dict, branch_id: int, at: datetime) -> dict:
    pinyin, initials = name_keys(values["name"])
    work_city, _sep, work_district = values["work_area"].partition("/")
    home_city, _sep, home_district = values["home_area"].partition("/")
    return {
        "version": 1, "branch_id": branch_id, "owner_id": None, "status": MemberStatus.INTAKE,
        "name": values["name"], "name_pinyin": pinyin, "name_initials": initials, "gender": values["gender"],
        "birth_date": values["birth_date"], "phone": values["phone"], "phone_last4": values["phone"][-4:],
        "wechat_id": values.get("wechat_id") or None, "id_last4": values.get("id_last4"),
        "id_hash": values.get("id_hash"), "employer": values["employer"], "union_name": values.get("union_name"),
        "is_union_member": True, "occupation_category": values["occupation_category"],
        "education": values["education"], "tier": Tier.STANDARD, "height_cm": values.get("height_cm"),
        "work_city": work_city, "work_district": work_district, "home_city": home_city,
        "home_district": home_district, "marital_history": values["marital_history"], "children_count": 0,
        "interests": [], "values_answers": {}, "pref_districts": [], "consent_versions": {},
        "created_at": at, "updated_at": at,
    }


def _insert_chunk(rows: list[dict]) -> None:
    db.session.execute(Member.__table__.insert(), rows)  # Core executemany: no ORM bookkeeping per row


def import_rows(parsed: Parsed, *, by, branch, file_hash: str, filename: str) -> int:
    """Insert every good row in the caller's transaction (chunks of 1,000 bulk inserts); flushes only."""
    good = parsed.good
    if not good:
        raise Refusal(_l("There are no rows without problems to import."))
    at = now_utc()
    members = [_member_row(row.values, branch.id, at) for row in good]
    for chunk in _chunks(members, 1000):
        _insert_chunk(chunk)
    # The Core inserts bypass the ORM events that keep name search's substrings: add them for these rows.
    from crm.members.models import MemberNameGram, rebuild_name_grams
    table = Member.__table__
    rebuild_name_grams(db.session.connection(), (table.c.branch_id == branch.id) & (table.c.created_at == at) & ~(
        select(MemberNameGram.member_id).where(MemberNameGram.member_id == table.c.id).exists()))
    record(by, "intake.import", None, object_type="members", branch_id=branch.id, imported=len(members),
           rejected=len(parsed.bad), file_sha256=file_hash, filename=filename[:100])
    return len(members)


# --- Files for download ------------------------------------------------------------------------

def _workbook_bytes(headers: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append([_safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _safe_cell(value):
    """Text that Excel would run as a formula (=, +, -, @) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def template_workbook() -> bytes:
    example = ["王悦", "女", "1994-03-08", "13912345678", "330106199403080027", "杭州市第二中学", "杭州二中工会",
               "", "硕士", "未婚", "163", "杭州市/西湖区", "杭州市/拱墅区", "wangyue94"]
    return _workbook_bytes([c.zh + ("*" if c.required else "") for c in COLUMNS], [example])


def rejects_workbook(parsed: Parsed) -> bytes:
    headers = [_("Row"), *(c.zh for c in COLUMNS), _("Problems")]
    rows = [[r.line, *(r.cells.get(c.key, "") for c in COLUMNS), " ".join(r.problems)] for r in parsed.bad]
    return _workbook_bytes(headers, rows)
