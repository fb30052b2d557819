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
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import aliased

from crm import i18n
from crm.auth import policy
from crm.auth.models import User
from crm.clock import today
from crm.extensions import db
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
            i18n.format_date(r.last_contact_at) if r.last_contact_at else "",
            select_format % {"name": r.name} if selectable else ""))
    return rows
