"""Read queries for member lists, each one statement whatever the caseload size."""

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from crm.auth import policy
from crm.auth.models import Role, User
from crm.clock import today
from crm.database import as_id
from crm.extensions import db
from crm.members.models import GRAM_MAX, Assignment, Member, MemberNameGram, Note
from crm.members.pinyin import name_keys

NOTES_ON_CASE_FILE = 20
POOL = "pool"


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    status: str = ""
    gender: str = ""
    age_min: int | None = None
    age_max: int | None = None
    district: str = ""
    owner: str = ""  # a user id, "pool" for unassigned, "" for anyone visible


def _years_ago(years: int, on: date) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def _text_condition(q: str):
    q = q.strip()
    if q.isdigit() and len(q) == 4:
        return Member.phone_last4 == q
    if q.isascii():
        key = "".join(ch for ch in q.lower() if ch.isalpha())
        if not key:
            return Member.phone.contains(q) if q.isdigit() else Member.id == -1
        # Range on the lowercase a–z keys uses their indexes on every database ("{" follows "z").
        return or_(and_(Member.name_pinyin >= key, Member.name_pinyin < key + "{"),
                   and_(Member.name_initials >= key, Member.name_initials < key + "{"))
    # Any part of the name through the kept substrings (MemberNameGram): one index seek, not a LIKE scan.
    # Names longer than GRAM_MAX are looked up by their first GRAM_MAX characters, then checked whole.
    by_part = Member.id.in_(select(MemberNameGram.member_id).where(MemberNameGram.gram == q.lower()[:GRAM_MAX]))
    if len(q) > GRAM_MAX:
        by_part = and_(by_part, Member.name.contains(q, autoescape=True))
    return or_(by_part, Member.name_pinyin == name_keys(q)[0])


def filter_conditions(f: MemberFilters):
    """The WHERE conditions of the list filters (crm.members.listing shows the rows)."""
    conditions = []
    if f.q:
        conditions.append(_text_condition(f.q))
    if f.status:
        conditions.append(Member.status == f.status)
    if f.gender:
        conditions.append(Member.gender == f.gender)
    if f.age_min:
        conditions.append(Member.birth_date <= _years_ago(f.age_min, today()))
    if f.age_max:
        conditions.append(Member.birth_date > _years_ago(f.age_max + 1, today()))
    if f.district:
        city, _, district = f.district.partition("/")
        conditions.extend([Member.work_city == city, Member.work_district == district])
    if f.owner == POOL:
        conditions.append(Member.owner_id.is_(None))
    elif f.owner:  # a user id; anything else ("²", "abc", 40 digits) matches nobody instead of failing
        conditions.append(Member.owner_id == (as_id(f.owner) or -1))
    return conditions


def member_page(user, filters: MemberFilters, page: int, per_page: int):
    """One page of the members ``user`` may see, with the total, in a single statement."""
    owner = aliased(User)
    total = func.count().over().label("total")
    query = (select(Member, owner.display_name.label("owner_name"), total)
             .outerjoin(owner, Member.owner_id == owner.id)
             .where(policy.visible_members_clause(user), *filter_conditions(filters))
             .order_by(Member.last_contact_at.desc().nulls_last(), Member.id.desc())
             .limit(per_page).offset((page - 1) * per_page))
    rows = db.session.execute(query).all()
    return rows, (rows[0].total if rows else 0)


_VERIFIED_BY = ("realname_verified_by_id", "employer_verified_by_id", "pledge_recorded_by_id",
                "consent_recorded_by_id")


@cache
def _case_file_statement():
    """Built on first use: its loader options configure the mappers, which needs every model imported."""
    names = [select(User.display_name).where(User.id == getattr(Member, attr)).scalar_subquery()
             for attr in _VERIFIED_BY]
    return (select(Member, *names).options(joinedload(Member.owner), joinedload(Member.branch))
            .where(Member.id == bindparam("member_id")))


#: The case file's statements are built once with bind parameters (issue 10: building them per view cost more
#: CPU than running them); their rows are columns where the page needs no entity.
_NOTE_AUTHOR = aliased(User, name="note_author")
_RECENT_NOTES = (
    select(Note.id, Note.version, Note.kind, Note.body, Note.contact_on, Note.edited_at, Note.author_id,
           _NOTE_AUTHOR.display_name.label("author_name"))
    .join(_NOTE_AUTHOR, _NOTE_AUTHOR.id == Note.author_id)
    .where(Note.member_id == bindparam("member_id"), Note.deleted_at.is_(None))
    .order_by(Note.created_at.desc(), Note.id.desc()).limit(NOTES_ON_CASE_FILE))
_FROM_USER, _TO_USER, _BY_USER = (aliased(User, name=n) for n in ("from_user", "to_user", "by_user"))
_ASSIGNMENT_HISTORY = (
    select(Assignment.id, Assignment.at, Assignment.reason, _FROM_USER.display_name.label("from_name"),
           _TO_USER.display_name.label("to_name"), _BY_USER.display_name.label("by_name"))
    .outerjoin(_FROM_USER, _FROM_USER.id == Assignment.from_user_id)
    .outerjoin(_TO_USER, _TO_USER.id == Assignment.to_user_id)
    .outerjoin(_BY_USER, _BY_USER.id == Assignment.by_id)
    .where(Assignment.member_id == bindparam("member_id")).order_by(Assignment.at.desc(), Assignment.id.desc()))


def case_file(member_id: int) -> Member | None:
    """The member with owner and branch, and the names of whoever verified it, in one statement."""
    row = db.session.execute(_case_file_statement(), {"member_id": member_id}).first()
    if row is None:
        return None
    member = row[0]
    member.loaded_verifier_names = {getattr(member, attr): name for attr, name in zip(_VERIFIED_BY, row[1:],
                                                                                       strict=True) if name}
    return member


def recent_notes(member_id: int) -> list:
    """The case file's latest notes, not deleted, as rows: id, version, kind, body, contact_on, edited_at,
    author_id (what crm.auth.policy.note_edit_check asks) and author_name."""
    return db.session.execute(_RECENT_NOTES, {"member_id": member_id}).all()


def assignment_history(member_id: int) -> list:
    """Rows of at, reason, from_name and to_name (None: the pool) and by_name, newest first."""
    return db.session.execute(_ASSIGNMENT_HISTORY, {"member_id": member_id}).all()


def verifier_names(member: Member) -> dict[int, str]:
    ids = {getattr(member, attr) for attr in _VERIFIED_BY} - {None}
    loaded = getattr(member, "loaded_verifier_names", None)
    if not ids or (loaded is not None and ids == set(loaded)):  # case_file() read them already
        return loaded or {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def assignable_volunteers(user) -> list[User]:
    query = User.with_role(Role.VOLUNTEER).order_by(User.display_name)
    if not user.has_role(Role.ADMIN):
        query = query.where(User.branch_id == user.branch_id)
    return list(db.session.scalars(query))


def assignable_volunteer_names(user) -> list:
    """(id, display_name) rows of ``assignable_volunteers(user)``, for drop-downs: loading ~100 User entities
    (an admin: ~1,900) cost the branch board more than its card ids."""
    query = (User.with_role(Role.VOLUNTEER).with_only_columns(User.id, User.display_name)
             .order_by(User.display_name))
    if not user.has_role(Role.ADMIN):
        query = query.where(User.branch_id == user.branch_id)
    return db.session.execute(query).all()


def team_overview(user):
    """Each volunteer of the user's branch with caseload size and last contact, in one statement."""
    caseload = (select(Member.owner_id, func.count().label("caseload"),
                       func.max(Member.last_contact_at).label("last_contact"))
                .where(Member.status.notin_(["closed"])).group_by(Member.owner_id).subquery())
    query = (User.with_role(Role.VOLUNTEER)
             .add_columns(func.coalesce(caseload.c.caseload, 0), caseload.c.last_contact)
             .outerjoin(caseload, caseload.c.owner_id == User.id).order_by(User.display_name))
    if not user.has_role(Role.ADMIN):
        query = query.where(User.branch_id == user.branch_id)
    return db.session.execute(query).all()


def pool_size(user) -> int:
    query = select(func.count()).select_from(Member).where(Member.owner_id.is_(None),
                                                           Member.status != "closed")
    if not user.has_role(Role.ADMIN):
        query = query.where(Member.branch_id == user.branch_id)
    return db.session.scalar(query)
