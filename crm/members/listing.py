"""The rows of the member lists (caseload and search): one column select, shown as ready-made rows.

The caseload is the page a volunteer opens most. Loading 50 whole Member entities (JSON columns decoded,
identity map) and letting the template call gettext, Babel's date formatting and ``url_for`` for every
row cost most of the page (bench/FINDINGS.md, issue 10). Here the statement selects only the columns the
list shows, and ``ListRow`` carries each cell as the text to print: labels translated once per page (an
enum has a handful of values), dates formatted once per distinct date, the case-file link built from one
``url_for``. What a row shows is unchanged.
"""

import operator
from functools import reduce
from typing import NamedTuple

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import aliased

from crm import i18n
from crm.auth import policy
from crm.auth.models import User
from crm.clock import today
from crm.extensions import db
from crm.members import bp
from crm.members.models import Member

_OWNER = aliased(User, name="owner")
_CHECKS = reduce(operator.add, [cast(column.is_not(None), Integer) for column in (
    Member.realname_verified_at, Member.employer_verified_at, Member.pledge_signed_at, Member.consent_at)])
_COLUMNS = (Member.id, Member.name, Member.gender, Member.birth_date, Member.status,
            _CHECKS.label("checks"), Member.work_district, Member.last_contact_at,
            _OWNER.display_name.label("owner_name"), func.count().over().label("total"))


class ListRow(NamedTuple):
    id: int
    url: str
    name: str
    gender: str  # the label
    age: str  # "34 yrs" / "34岁"
    status: str  # the value, for the CSS class
    status_label: str
    checks: int
    district: str
    owner: str  # the volunteer's name, or "Pool"
    last_contact: str  # formatted date, or ""
    select_label: str  # the checkbox's accessible name ("" when the list has no checkboxes)


def member_rows(user, conditions, page: int, per_page: int, selectable: bool = False):
    """One page of the members ``user`` may see matching ``conditions`` (crm.members.queries), newest
    contact first, with the total: ``(rows, total)``, in a single statement."""
    query = (select(*_COLUMNS).select_from(Member).outerjoin(_OWNER, Member.owner_id == _OWNER.id)
             .where(policy.visible_members_clause(user), *conditions)
             .order_by(Member.last_contact_at.desc().nulls_last(), Member.id.desc())
             .limit(per_page).offset((page - 1) * per_page))
    result = db.session.execute(query).all()
    return display_rows(result, selectable), (result[0].total if result else 0)


def display_rows(result, selectable: bool = False) -> list[ListRow]:
    if not result:
        return []
    # Without variables gettext returns the translated format itself, filled in per row below.
    age_format = i18n.gettext("%(age)d yrs")
    select_format = i18n.gettext("Select %(name)s") if selectable else ""
    pool = i18n.gettext("Pool")
    labels = {}  # enum member -> its label in this request's language

    def label(value):
        text = labels.get(value)
        if text is None:
            text = labels[value] = str(value.label)
        return text

    date = i18n.date_formatter()  # the time zone and locale looked up once, not per row
    probe = url_for("members.detail", member_id=1)
    prefix = probe[:-1]  # ".../members/" : the link of member N is prefix + N
    on = today()
    rows = []
    for r in result:
        born = r.birth_date
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        rows.append(ListRow(
            r.id, f"{prefix}{r.id}", r.name, label(r.gender), age_format % {"age": age}, r.status.value,
            label(r.status), r.checks, r.work_district, r.owner_name or pool,
            date(r.last_contact_at) if r.last_contact_at else "",
            select_format % {"name": r.name} if selectable else ""))
    return rows


# The <tr> that the list pages' member_row macro wrote (tests/perf_pages/member_row_reference.html), written
# in one pass: the same HTML, character for character (tests/perf_pages/test_request_floor.py renders both).
# 50 macro calls and ~14 autoescaped outputs per row were a quarter of the caseload's template time.
# Column labels are translated once per page.
_ROW = ("\n\n<tr>\n  {select}\n"
        '  <td data-label="{name}"><a href="{{url}}">{{name}}</a>\n'
        '    <span class="muted">{{gender}} · {{age}}</span></td>\n'
        '  <td data-label="{status}"><span class="status status-{{status}}">{{status_label}}</span></td>\n'
        '  <td data-label="{checks}"><span class="checks" title="{checks_title}">{{checks}}/4</span></td>\n'
        '  <td data-label="{district}">{{district}}</td>\n'
        '  <td data-label="{volunteer}">{{owner}}</td>\n'
        '  <td data-label="{last_contact}">{{last_contact}}</td>\n'
        "</tr>\n")
# Put into _ROW by the first format(): its fields are filled per row by the second.
_SELECT = ('<td class="select"><label class="select-hit"><input type="checkbox" name="member_ids" value="{id}" '
           'form="bulk" id="sel-{id}" {checked} aria-label="{select_label}"></label></td>')


@bp.app_template_global("member_rows_html")
def rows_html(rows, selectable=False, selected=()) -> Markup:
    """The ``<tr>`` of every ``ListRow`` (what ``member_row(row, selectable, selected)`` writes for each)."""
    if not rows:
        return Markup("")
    def gettext(msgid):  # a label as text to print, and as part of the format string below
        return escape(i18n.gettext(msgid)).replace("{", "{{").replace("}", "}}")

    row = _ROW.format(
        select=_SELECT if selectable else "", name=gettext("Name"), status=gettext("Status"),
        checks=gettext("Checks"), checks_title=gettext("Verification steps done"), district=gettext("District"),
        volunteer=gettext("Volunteer"), last_contact=gettext("Last contact")).format
    selected = set(selected) if selectable and selected else ()
    return Markup("".join(row(
        id=r.id, url=escape(r.url), name=escape(r.name), gender=escape(r.gender), age=escape(r.age),
        status=escape(r.status), status_label=escape(r.status_label), checks=r.checks, district=escape(r.district),
        owner=escape(r.owner), last_contact=escape(r.last_contact) if r.last_contact else "—",
        checked="checked" if r.id in selected else "", select_label=escape(r.select_label)) for r in rows))
