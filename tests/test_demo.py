import itertools
import re
import statistics
from collections import Counter
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from crm import clock
from crm.audit.models import AuditEntry
from crm.auth.models import Branch, Role, User
from crm.demo import DEMO_PASSWORD, DEMO_USERS
from crm.followups.models import FollowUp
from crm.members.models import Assignment, Member, Note
from crm.members.pinyin import name_keys
from crm.pairings import firsts, next_moves, services
from crm.pairings.models import Pairing, PairingStageFirst, Stage, StageChange
from crm.stats import facts
from crm.stats.models import PairingFact
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


def test_demo_notes_fall_between_the_case_file_opening_and_now(app, db):
    _seed(app, "--members", "40")
    now = clock.now_utc()
    for note in db.session.scalars(select(Note)):
        member = db.session.get(Member, note.member_id)
        assert member.created_at <= note.created_at <= now and note.contact_on == note.created_at.date(), note
    for member in db.session.scalars(select(Member).where(Member.owner_id.is_not(None))):
        assert member.last_contact_at is not None, member  # volunteers keep in touch with their members


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


def test_demo_pairings_are_told_over_months_through_the_services(app, db):
    """Every step of a demo pairing is dated on its own day, in the daytime, in order, after both members
    joined and before now; so the dashboard's days-in-stage read like a branch's (not 0.0 days: everything
    at seeding time), the follow-ups that fell due along the way were done on their day (the demo volunteer
    still has one due today and one overdue), and the tables the flush events keep equal their definitions
    without any rebuild."""
    _seed(app, "--members", "120")
    now = clock.now_utc()
    history = {}
    for change in db.session.scalars(select(StageChange).order_by(StageChange.id)):
        history.setdefault(change.pairing_id, []).append(change)
    assert len(history) >= 20
    for pairing in db.session.scalars(select(Pairing)):
        times = [c.at for c in history[pairing.id]]
        assert times == sorted(times) and times[-1] <= now, pairing
        assert times[0] > max(pairing.member_a.created_at, pairing.member_b.created_at), pairing
        assert pairing.stage_changed_at == times[-1] and pairing.created_at == times[0], pairing
        beijing = [t.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai")) for t in times]
        assert all(9 <= t.hour < 22 for t in beijing), (pairing, beijing)  # by day where the union works
    stays = [(later.at - earlier.at).days for moves in history.values() for earlier, later in itertools.pairwise(moves)]
    assert statistics.median(stays) >= 3, stays
    married = [moves for moves in history.values() if moves[-1].to_stage is Stage.MARRIED]
    assert married and all((m[-1].at - m[0].at).days >= 60 for m in married)
    waiting = db.session.scalars(select(Pairing).where(Pairing.stage == Stage.AWAITING_CONSENT)).all()
    assert {any(services.consent_is_overdue(p, c) for c in p.consents) for p in waiting} == {True, False}

    done = db.session.scalars(select(FollowUp).where(FollowUp.done_at.is_not(None))).all()
    assert any(f.pairing_id for f in done)
    ended = set(db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "followup.end")))
    assert ended  # the next stage or the close ended the earlier stage's follow-ups
    for followup in done:
        assert followup.created_at <= followup.done_at <= now, followup
        # Done when due, unless a move made it moot: a couple may meet before the check-in is due.
        assert followup.done_at.date() >= followup.due_on or followup.pairing_id is None or followup.id in ended, \
            followup
    volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
    open_dates = set(db.session.scalars(select(FollowUp.due_on).where(
        FollowUp.assignee_id == volunteer.id, FollowUp.done_at.is_(None))))
    assert clock.today() in open_dates and min(open_dates) < clock.today()  # the caseload's two panels

    assert {(p, getattr(s, "value", s), at) for p, s, at in db.session.execute(
        select(PairingStageFirst.pairing_id, PairingStageFirst.stage, PairingStageFirst.reached_at))} == {
        (p, getattr(s, "value", s), at) for p, s, at in db.session.execute(firsts.recomputed())}
    assert dict(db.session.execute(select(StageChange.id, StageChange.next_at)).all()) == dict(
        db.session.execute(next_moves.recomputed()).all())
    fact = [PairingFact.scope_id, PairingFact.kind, PairingFact.at, PairingFact.stage, PairingFact.value,
            PairingFact.pairing_id]
    rounded = lambda rows: Counter((*r[:4], None if r[4] is None else round(r[4], 6), r[5]) for r in rows)  # noqa: E731
    assert rounded(db.session.execute(select(*fact))) == rounded(db.session.execute(facts.recomputed()))
