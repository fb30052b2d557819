"""Plain functions that build valid records; pass overrides for what a test cares about."""

import itertools
from datetime import date, timedelta

from flask import current_app

from crm.auth.models import Branch, Role, User
from crm.auth.passwords import hash_password
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members.models import (
    Education,
    Gender,
    MaritalHistory,
    Member,
    MemberStatus,
    Note,
    NoteKind,
    id_number_hash,
)
from crm.members.pinyin import name_keys

PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
_seq = itertools.count(1)
_hashes: dict[str, str] = {}


def _password_hash() -> str:
    key = current_app.config["SECRET_KEY"]
    if key not in _hashes:
        _hashes[key] = hash_password(PASSWORD)
    return _hashes[key]


def make_branch(**overrides) -> Branch:
    n = next(_seq)
    branch = Branch(**{"name": f"测试工会服务中心{n}", "city": "杭州市", **overrides})
    db.session.add(branch)
    db.session.flush()
    return branch


def make_user(role: str | Role = "volunteer", **overrides) -> User:
    n = next(_seq)
    roles = Role[role.upper()] if isinstance(role, str) else role
    if "branch" not in overrides and "branch_id" not in overrides:
        overrides["branch"] = make_branch()
    user = User(**{"username": f"user{n}", "display_name": f"员工{n}", "roles": roles,
                   "password_hash": _password_hash(), "phone": f"1390000{n:04d}", **overrides})
    db.session.add(user)
    db.session.flush()
    return user


def make_member(**overrides) -> Member:
    n = next(_seq)
    if "branch" not in overrides and "branch_id" not in overrides:
        owner = overrides.get("owner")
        overrides["branch"] = owner.branch if owner is not None else make_branch()
    name = overrides.pop("name", f"张{'伟娜丽强敏静磊洋艳勇'[n % 10]}")
    pinyin, initials = name_keys(name)
    phone = overrides.pop("phone", f"138{n:08d}")
    verified = overrides.pop("verified", True)
    at = now_utc() if verified else None
    fields = {
        "name": name, "name_pinyin": pinyin, "name_initials": initials, "gender": Gender.FEMALE,
        "birth_date": date(1995, 5, 17), "phone": phone, "phone_last4": phone[-4:], "wechat_id": f"wx{n}",
        "id_last4": f"{n % 10000:04d}", "id_hash": id_number_hash("test", f"id{n}"),
        "employer": "杭州市地铁集团", "occupation_category": "engineering", "education": Education.BACHELOR,
        "height_cm": 165, "work_city": "杭州市", "work_district": "西湖区", "home_city": "杭州市",
        "home_district": "滨江区", "marital_history": MaritalHistory.NEVER, "interests": ["hiking", "reading"],
        "values_answers": {"wants_children": 4}, "status": MemberStatus.ACTIVE if verified else MemberStatus.INTAKE,
        "realname_verified_at": at, "employer_verified_at": at, "pledge_signed_at": at, "consent_at": at,
        **overrides,
    }
    member = Member(**fields)
    db.session.add(member)
    db.session.flush()
    return member


def make_note(member: Member, author: User, **overrides) -> Note:
    note = Note(**{"member_id": member.id, "author_id": author.id, "kind": NoteKind.CALL,
                   "body": "电话回访", "contact_on": today() - timedelta(days=1), **overrides})
    db.session.add(note)
    db.session.flush()
    return note


def member_form_data(**overrides) -> dict:
    """Valid POST data for the member form (new or edit)."""
    data = {
        "name": "王悦", "gender": "female", "birth_date": "1994-03-08", "phone": "13912345678",
        "wechat_id": "wangyue94", "id_number": "330106199403080027", "employer": "杭州市第二中学",
        "union_name": "杭州二中工会", "is_union_member": "y", "occupation_category": "education",
        "occupation": "语文教师", "education": "master", "tier": "standard", "height_cm": "163",
        "hometown": "浙江绍兴", "work_area": "杭州市/西湖区", "home_area": "杭州市/拱墅区", "settle_city": "杭州市",
        "marital_history": "never", "children_count": "0", "self_intro": "喜欢读书和徒步。",
        "interests": ["reading", "hiking"], "value_wants_children": "4", "pref_age_min": "28",
        "pref_age_max": "36", "pref_accepts_divorced": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
