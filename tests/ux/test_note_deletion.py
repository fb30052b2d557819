"""Deleting a case note by mistake and undoing it: a soft deletion, confirmed first, audited both ways."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.clock import today
from crm.errors import Refusal
from crm.members import services
from crm.members.models import Member, Note
from crm.pairings.queries import pairing_notes
from crm.privacy import erasure, export
from crm.stats import definitions
from tests import factories

HX = {"HX-Request": "true"}


@pytest.fixture
def world(db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, name="张伟")
    note = factories.make_note(member, volunteer, body="写错了会员的记录")
    kept = factories.make_note(member, volunteer, body="正常的电话回访", contact_on=today() - timedelta(days=9))
    db.session.commit()
    return volunteer, member, note, kept


def _actions():
    return [(e.action, e.object_id, e.actor_id) for e in
            select_all(select(AuditEntry).where(AuditEntry.action.in_(["note.delete", "note.restore"])))]


def select_all(query):
    from crm.extensions import db
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


# --- services (both engines) ---------------------------------------------------------------------

def test_delete_and_restore_keep_the_note_and_audit_who_did_each(db, world):
    volunteer, member, note, kept = world
    services.delete_note(note, member, by=volunteer)
    db.session.commit()
    assert note.deleted_at is not None and note.deleted_by_id == volunteer.id
    assert db.session.get(Note, note.id).body == "写错了会员的记录"  # kept, not removed
    from crm.members.queries import recent_notes
    assert [n.id for n in recent_notes(member.id)] == [kept.id]
    version_after_delete = note.version

    services.restore_note(note, member, by=volunteer)
    db.session.commit()
    assert note.deleted_at is None and note.deleted_by_id is None
    assert note.version > version_after_delete  # an open correction form from before is stale now
    assert {n.id for n in recent_notes(member.id)} == {note.id, kept.id}
    assert _actions() == [("note.delete", note.id, volunteer.id), ("note.restore", note.id, volunteer.id)]


def test_deleting_twice_or_restoring_a_live_note_is_refused(db, world):
    volunteer, member, note, _kept = world
    with pytest.raises(Refusal):
        services.restore_note(note, member, by=volunteer)
    services.delete_note(note, member, by=volunteer)
    with pytest.raises(Refusal):
        services.delete_note(note, member, by=volunteer)


def test_the_last_contact_comes_from_the_remaining_notes(db, world):
    volunteer, member, note, kept = world
    member.last_contact_at = None
    services.add_note(member, by=volunteer, kind=note.kind, body="打错了", contact_on=today())
    wrong = db.session.scalars(select(Note).where(Note.body == "打错了")).one()
    assert member.last_contact_at.date() == today()
    services.delete_note(wrong, member, by=volunteer)
    assert member.last_contact_at.date() == note.contact_on  # yesterday's call is the last contact again
    services.delete_note(note, member, by=volunteer)
    assert member.last_contact_at.date() == kept.contact_on
    services.delete_note(kept, member, by=volunteer)
    assert member.last_contact_at is None
    services.restore_note(kept, member, by=volunteer)
    assert member.last_contact_at.date() == kept.contact_on


def test_the_database_refuses_a_half_recorded_deletion(db, world):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError
    _volunteer, _member, note, _kept = world
    with pytest.raises(IntegrityError):
        db.session.execute(update(Note).where(Note.id == note.id).values(deleted_at=today()))
        db.session.flush()
    db.session.rollback()


def test_a_deleted_note_leaves_the_pairing_page(db, world):
    volunteer, member, note, _kept = world
    from crm.members.models import Gender
    from crm.pairings.services import propose_pairing
    other = factories.make_member(owner=volunteer, gender=Gender.MALE if member.gender is Gender.FEMALE
                                  else Gender.FEMALE)
    pairing = propose_pairing(member, other, volunteer)
    note.pairing_id = pairing.id
    db.session.flush()
    assert [n.id for n in pairing_notes(volunteer, pairing)] == [note.id]
    services.delete_note(note, member, by=volunteer)
    assert pairing_notes(volunteer, pairing) == []


def test_a_deleted_note_does_not_count_as_work_on_the_member(db, world):
    volunteer, member, note, kept = world
    period = definitions.Period(today() - timedelta(days=3), today())
    kept.created_at = kept.created_at - timedelta(days=30)  # only ``note`` falls in the period
    db.session.flush()
    assert db.session.scalar(definitions.members_served(period, None)) == 1
    services.delete_note(note, member, by=volunteer)
    assert db.session.scalar(definitions.members_served(period, None)) == 0
    services.restore_note(note, member, by=volunteer)
    assert db.session.scalar(definitions.members_served(period, None)) == 1


def test_erasure_removes_deleted_notes_too(db, world):
    volunteer, member, note, _kept = world
    services.delete_note(note, member, by=volunteer)
    db.session.commit()
    erasure.erase_member(db.session.get(Member, member.id), volunteer, "会员本人要求删除")
    db.session.commit()
    assert db.session.scalars(select(Note).where(Note.member_id == member.id)).all() == []


def test_the_members_own_export_discloses_deleted_notes_as_deleted(db, world):
    volunteer, member, note, _kept = world
    services.delete_note(note, member, by=volunteer)
    db.session.commit()
    notes = export.collect(member)["notes"]
    by_body = {n["body"]: n for n in notes}
    assert by_body["写错了会员的记录"]["deleted_at"] is not None
    assert by_body["正常的电话回访"]["deleted_at"] is None
