"""Name search by any part of a Chinese name through the kept substrings (member_name_grams)."""

import re

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.members.models import GRAM_MAX, Member, MemberNameGram, name_grams, rebuild_name_grams
from crm.privacy import erasure
from tests import factories


def _names(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'<a href="/members/\d+">([^<]+)</a>', response.get_data(as_text=True)))


def _search(client, q):
    return _names(client.get("/members/search", query_string={"q": q}, headers={"HX-Request": "true"}))


def _grams_of(member_id) -> set[str]:
    return set(db.session.scalars(select(MemberNameGram.gram).where(MemberNameGram.member_id == member_id)))


@pytest.fixture
def people(db):
    branch = factories.make_branch()
    sup = factories.make_user("supervisor", branch=branch)
    vol = factories.make_user("volunteer", branch=branch)
    members = {name: factories.make_member(owner=vol, name=name)
               for name in ("欧阳娜娜", "司马相如之后", "张小燕", "Anna·李")}
    outsider = factories.make_member(owner=factories.make_user("volunteer"), name="欧阳娜娜")
    db.session.commit()
    return sup, vol, members, outsider


def test_every_part_up_to_the_limit_is_kept_lowercased():
    assert name_grams("张小燕") == {"张", "小", "燕", "张小", "小燕", "张小燕"}
    assert "anna" in name_grams("Anna·李") and all(len(g) <= GRAM_MAX for g in name_grams("司马相如之后"))


@pytest.mark.parametrize(("q", "expected"), [
    ("小燕", {"张小燕"}), ("燕", {"张小燕"}), ("娜娜", {"欧阳娜娜"}), ("阳娜", {"欧阳娜娜"}),
    ("相如之后", {"司马相如之后"}), ("马相如之后", {"司马相如之后"}),  # longer than GRAM_MAX: checked whole
    ("司马相如之前", set()), ("张燕", set()), ("·李", {"Anna·李"}),
])
def test_any_part_of_the_name_finds_the_member_within_what_the_viewer_sees(client, login_as, people, q, expected):
    sup, vol, members, outsider = people
    login_as(sup)
    assert _search(client, q) == expected  # never the other branch's 欧阳娜娜


def test_the_substrings_follow_an_edit_and_erasure(client, login_as, people):
    sup, vol, members, outsider = people
    member = members["张小燕"]
    member.name = "李大红"
    db.session.commit()
    assert _grams_of(member.id) == name_grams("李大红")
    login_as(sup)
    assert _search(client, "小燕") == set() and _search(client, "大红") == {"李大红"}
    erasure.erase_member(db.session.get(Member, member.id), sup, "会员本人要求删除")
    db.session.commit()
    assert not any(g in _grams_of(member.id) for g in ("李", "大红", "李大红"))
    assert _grams_of(member.id) == name_grams(db.session.get(Member, member.id).name)
    assert _search(client, "大红") == set()


def test_bulk_writers_rebuild_the_same_substrings(people):
    sup, vol, members, outsider = people
    kept = {m.id: _grams_of(m.id) for m in members.values()}
    db.session.execute(MemberNameGram.__table__.delete())
    rebuild_name_grams(db.session.connection())
    assert {m.id: _grams_of(m.id) for m in members.values()} == kept


def test_name_search_statements_do_not_grow_with_members(client, login_as, people, count_queries):
    sup, vol, members, outsider = people
    login_as(sup)
    _search(client, "娜")
    with count_queries() as few:
        _search(client, "娜")
    for i in range(20):
        factories.make_member(owner=vol, name=f"王娜{i}")
    db.session.commit()
    with count_queries() as many:
        found = _search(client, "娜")
    assert len(found) == 21 and len(many) == len(few)


def test_an_imported_roster_is_searchable_by_any_part_of_a_name(app, db):
    from crm.intake import roster
    from tests.intake.test_import import good_row, xlsx_bytes

    user = factories.make_user("supervisor")
    existing = factories.make_member(owner=factories.make_user("volunteer", branch=user.branch), name="赵钱孙")
    rows = [good_row(n) for n in range(3)]
    parsed = roster.check_rows(roster.read_table(xlsx_bytes(rows)))
    assert roster.import_rows(parsed, by=user, branch=user.branch, file_hash="x", filename="r.xlsx") == 3
    db.session.commit()
    imported = db.session.scalars(select(Member).where(Member.id != existing.id)).all()
    assert len(imported) == 3
    for member in imported:
        assert _grams_of(member.id) == name_grams(member.name)
    assert _grams_of(existing.id) == name_grams("赵钱孙")
