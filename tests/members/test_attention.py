"""When each member was last attended to (crm.members.attention) stays equal to its sources after every kind of
write, in a random order: case notes added, deleted and restored, proposals, pairs written directly, follow-ups
created, completed and rescheduled, erasure. The dashboard's neglected members read from it equal the
definition checked row by row (a case note, a proposal or a follow-up since the cut-off), and the migration's
backfill and rebuild compute the same columns."""

import importlib.util
import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import exists, func, or_, select, text, update
from sqlalchemy.orm import aliased

from crm.clock import now_utc, today
from crm.extensions import db
from crm.followups import services as followups
from crm.followups.models import FollowUp, FollowUpKind
from crm.members import attention
from crm.members import services as member_services
from crm.members.models import Member, MemberStatus, Note, NoteKind
from crm.pairings.models import Pairing
from crm.privacy import erasure
from crm.stats import queries
from tests import random_writes
from tests.stats.test_facts import Office, _propose, _scene_pair


@pytest.fixture
def ctx(app, db):
    """A request context, for calling services directly (messages are translated lazily)."""
    with app.test_request_context():
        yield


MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_members_attention.py"))
COLUMNS = (Member.id, Member.last_note_at, Member.attended_at, Member.followup_due_on)


def _stored():
    db.session.expire_all()
    return {row[0]: tuple(row[1:]) for row in db.session.execute(select(*COLUMNS))}


def _from_the_sources():
    """The three values per member, worked out in Python from every note, pairing and follow-up."""
    notes, times, due = {}, {}, {}

    def later(book, key, value):
        if value is not None and (book.get(key) is None or value > book[key]):
            book[key] = value

    for member_id, created, deleted in db.session.execute(select(Note.member_id, Note.created_at, Note.deleted_at)):
        if deleted is None:
            later(notes, member_id, created)
            later(times, member_id, created)
    for low, high, created in db.session.execute(select(Pairing.member_low_id, Pairing.member_high_id,
                                                       Pairing.created_at)):
        later(times, low, created)
        later(times, high, created)
    for member_id, created, done, due_on in db.session.execute(
            select(FollowUp.member_id, FollowUp.created_at, FollowUp.done_at, FollowUp.due_on)):
        if member_id is not None:
            later(times, member_id, created)
            later(times, member_id, done)
            later(due, member_id, due_on)
    return {m: (notes.get(m), times.get(m), due.get(m)) for m in db.session.scalars(select(Member.id))}


def _neglected_by_definition(branch_id):
    """The dashboard's neglected members as they were read before the kept columns: four seeks per member."""
    cutoff = now_utc() - timedelta(days=queries.neglect_days())
    cutoff_day = today() - timedelta(days=queries.neglect_days())
    p = aliased(Pairing)
    last_note = (select(func.max(Note.created_at)).where(Note.member_id == Member.id, Note.deleted_at.is_(None))
                 .scalar_subquery())
    rows = db.session.execute(select(Member.id, last_note).where(
        Member.branch_id == branch_id, Member.status == MemberStatus.ACTIVE,
        ~exists(select(Note.id).where(Note.member_id == Member.id, Note.created_at >= cutoff,
                                      Note.deleted_at.is_(None))),
        ~exists(select(p.id).where(p.member_low_id == Member.id, p.created_at >= cutoff)),
        ~exists(select(p.id).where(p.member_high_id == Member.id, p.created_at >= cutoff)),
        ~exists(select(FollowUp.id).where(FollowUp.member_id == Member.id, or_(
            FollowUp.created_at >= cutoff, FollowUp.due_on >= cutoff_day, FollowUp.done_at >= cutoff))))).all()
    ordered = sorted(rows, key=lambda r: (r[1] is not None, r[1] or 0, r[0]))
    return len(rows), [(r[0], r[1]) for r in ordered[:20]]


def _age(rng):
    """Some of what was written moves back to around the cut-off, on either side of it, or well beyond it
    (written directly: the ORM is not told)."""
    long_ago = now_utc() - timedelta(days=queries.neglect_days() + rng.choice([-2, -1, 0, 1, 2, 40]),
                                     hours=rng.randint(-12, 12))
    ids = list(db.session.scalars(select(Member.id)))
    some = rng.sample(ids, k=max(1, len(ids) // 3))
    db.session.execute(update(Note).where(Note.member_id.in_(some)).values(created_at=long_ago))
    db.session.execute(update(FollowUp).where(FollowUp.member_id.in_(some)).values(
        created_at=long_ago, due_on=long_ago.date(), done_at=None))
    db.session.execute(update(Pairing).where(Pairing.member_low_id.in_(some) | Pairing.member_high_id.in_(some))
                       .values(created_at=long_ago))
    attention.rebuild()  # a writer round the ORM rebuilds, as crm.benchdata does


def _note(rng, office):
    member = rng.choice([m for m in office.members if m.erased_at is None])
    member_services.add_note(member, by=office.admin, kind=NoteKind.CALL, body="电话联系", contact_on=today())


def _delete_or_restore_note(rng, office):
    notes = list(db.session.scalars(select(Note).join(Member, Member.id == Note.member_id)
                                    .where(Member.erased_at.is_(None))))
    if notes:
        note = rng.choice(notes)
        member = db.session.get(Member, note.member_id)
        if note.deleted_at is None:
            member_services.delete_note(note, member, by=office.admin)
        else:
            member_services.restore_note(note, member, by=office.admin)


def _followup(rng, office):
    member = rng.choice([m for m in office.members if m.erased_at is None])
    followups.create_followup(assignee=office.volunteers[0], due_on=today() + timedelta(days=rng.randint(-50, 20)),
                              kind=FollowUpKind.OTHER, by=office.admin, member=member)


def _backdate_a_proposal(rng):
    """A pairing's proposal moved back through the ORM, as the demo's back-dating does."""
    pairings = list(db.session.scalars(select(Pairing)))
    if pairings:
        rng.choice(pairings).created_at = now_utc() - timedelta(days=queries.neglect_days() + rng.randint(1, 30))


def _complete_or_reschedule(rng, office):
    open_ones = list(db.session.scalars(select(FollowUp).where(FollowUp.done_at.is_(None))))
    if open_ones:
        followup = rng.choice(open_ones)
        if rng.random() < 0.5:
            followups.complete_followup(followup, by=office.admin, outcome="已回访")
        else:
            followup.due_on = today() - timedelta(days=rng.randint(0, 90))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_keep_the_attention_equal_to_its_sources(db, app, ctx, seed):
    rng = random.Random(seed)
    office = Office()
    steps = {"note": lambda: _note(rng, office), "unnote": lambda: _delete_or_restore_note(rng, office),
             "propose": lambda: _propose(rng, office), "scene": lambda: _scene_pair(rng, office),
             "followup": lambda: _followup(rng, office), "complete": lambda: _complete_or_reschedule(rng, office),
             "age": lambda: _age(rng), "backdate": lambda: _backdate_a_proposal(rng)}
    weights = {"note": 4, "unnote": 3, "propose": 3, "scene": 1, "followup": 3, "complete": 3, "age": 2,
               "backdate": 2}
    neglected = []

    def check(i, name):
        assert _stored() == _from_the_sources(), (i, name)
        for branch in office.branches:
            total, rows = queries.neglected_members(branch.id)
            assert (total, [(r.member_id, r.since) for r in rows]) == _neglected_by_definition(branch.id), (i, name)
            neglected.append(total)

    def erase():  # a member with notes: they are deleted round the ORM
        member = next(m for m in office.members if m.erased_at is None and db.session.scalar(
            select(func.count(Note.id)).where(Note.member_id == m.id)))
        erasure.erase_member(member, office.admin, "会员本人要求删除")

    done = random_writes.run(rng, steps, weights, rounds=70, erase_at=50, erase=erase, check=check)
    assert done["unnote"] >= 2 and done["complete"] >= 2 and done["age"] >= 1 and done["backdate"] >= 1, done
    assert done["erase"] == 1, done
    assert sum(neglected) > 0  # members became neglected on the way, and were counted as the definition counts


def test_rebuild_and_the_migration_backfill_compute_the_same_columns(db, app, ctx):
    office = Office()
    rng = random.Random(4)
    for _ in range(12):
        _note(rng, office)
        _propose(rng, office)
        _followup(rng, office)
    _delete_or_restore_note(rng, office)
    db.session.flush()
    kept = _stored()
    assert kept == _from_the_sources() and any(v[1] for v in kept.values())
    blank = {"last_note_at": None, "attended_at": None, "followup_due_on": None}
    db.session.execute(update(Member).values(**blank))
    attention.rebuild()
    assert _stored() == kept

    spec = importlib.util.spec_from_file_location("attention_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(update(Member).values(**blank))
    db.session.execute(text(migration.BACKFILL))
    assert _stored() == kept
