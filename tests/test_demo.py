import re

from sqlalchemy import func, select

from crm.auth.models import Branch, Role, User
from crm.demo import DEMO_PASSWORD, DEMO_USERS
from crm.members.models import Assignment, Member, Note
from crm.members.pinyin import name_keys
from tests import dbstate


def _seed(app, *args):
    result = app.test_cli_runner().invoke(args=["seed-demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_seed_demo_fills_an_empty_database(app, db):
    output = _seed(app, "--members", "40")
    assert db.session.scalar(select(func.count()).select_from(Branch)) >= 2
    users = db.session.scalars(select(User)).all()
    for role in Role.singles():
        assert any(u.has_role(role) for u in users), role
    assert {u.username for u in users} >= {u for u, *_ in DEMO_USERS}
    members = db.session.scalars(select(Member)).all()
    assert len(members) == 40
    assert db.session.scalar(select(func.count()).select_from(Note)) > 0
    assert "queqiao-demo" in output


def test_seed_demo_does_nothing_the_second_time(app, db):
    _seed(app, "--members", "40")
    before = dbstate.contents()
    output = _seed(app, "--members", "40")
    assert "already" in output
    assert dbstate.contents() == before


def test_every_demo_member_belongs_to_a_volunteer_of_their_branch(app, db):
    _seed(app, "--members", "40")
    members = db.session.scalars(select(Member)).all()
    owned = [m for m in members if m.owner_id is not None]
    assert owned
    for member in owned:
        assert member.owner.has_role(Role.VOLUNTEER), member
        assert member.owner.branch_id == member.branch_id, member
    for note in db.session.scalars(select(Note)):
        author = db.session.get(User, note.author_id)
        member = db.session.get(Member, note.member_id)
        assert author.branch_id == member.branch_id, "a note by someone outside the member's branch"
    for assignment in db.session.scalars(select(Assignment)):
        member = db.session.get(Member, assignment.member_id)
        assert db.session.get(User, assignment.by_id).branch_id == member.branch_id


def test_demo_members_are_valid_case_files(app, db):
    _seed(app, "--members", "40")
    phones = set()
    for m in db.session.scalars(select(Member)):
        assert re.fullmatch(r"1[3-9]\d{9}", m.phone) and m.phone_last4 == m.phone[-4:]
        assert m.phone not in phones
        phones.add(m.phone)
        assert 18 <= m.age <= 70
        assert (m.name_pinyin, m.name_initials) == name_keys(m.name)
        assert m.pref_age_min is None or m.pref_age_max is None or 18 <= m.pref_age_min <= m.pref_age_max <= 70
        assert m.is_ready_to_activate or m.status.value == "intake"


def test_the_demo_logins_work(app, client, db):
    _seed(app, "--members", "5")
    from tests.conftest import csrf_token
    response = client.post("/login", data={"username": "supervisor", "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert client.get("/members/team").status_code == 200
