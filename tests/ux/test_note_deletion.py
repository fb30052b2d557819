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
from tests import dbstate, factories
from tests.i18n import msg

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


# --- views: permissions, confirmation, undo, bad input --------------------------------------------

HX = {"HX-Request": "true"}


def _url(member, note, what="delete"):
    return f"/members/{member.id}/notes/{note.id}/{what}"


def test_delete_asks_for_confirmation_first_and_writes_nothing(client, world):
    _volunteer, member, note, _kept = world
    before = dbstate.row_counts()
    page = client.get(_url(member, note))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and msg("Delete this note?") in body and "写错了会员的记录" in body
    assert f'name="version" type="hidden" value="{note.version}"' in body or f'value="{note.version}"' in body
    assert dbstate.row_counts() == before


def test_delete_then_undo_without_javascript(client, db, world, csrf):
    volunteer, member, note, kept = world
    response = client.post(_url(member, note), data={"version": str(note.version), "csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/members/{member.id}#notes")
    case_file = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "写错了会员的记录" not in case_file and "正常的电话回访" in case_file
    assert msg("Note deleted.") in case_file
    assert f'action="{_url(member, note, "restore")}"' in case_file  # the Undo button in the flash
    assert msg("Undo") in case_file
    db.session.rollback()
    assert db.session.get(Note, note.id).deleted_by_id == volunteer.id

    response = client.post(_url(member, note, "restore"), data={"csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#note-{note.id}")
    case_file = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "写错了会员的记录" in case_file and msg("Note restored.") in case_file
    db.session.rollback()
    assert db.session.get(Note, note.id).deleted_at is None
    assert [a for a, _id, _actor in _actions()] == ["note.delete", "note.restore"]


def test_delete_with_htmx_returns_the_notes_panel_and_the_flash_out_of_band(client, db, world, csrf):
    _volunteer, member, note, _kept = world
    response = client.post(_url(member, note), data={"version": str(note.version), "csrf_token": csrf()}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section class="panel" id="notes"')
    assert "写错了会员的记录" not in body and "正常的电话回访" in body
    assert '<div id="flashes" hx-swap-oob="innerHTML">' in body and msg("Note deleted.") in body
    assert f'hx-post="{_url(member, note, "restore")}"' in body and 'hx-target="#notes"' in body

    response = client.post(_url(member, note, "restore"), data={"csrf_token": csrf()}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "写错了会员的记录" in body
    assert f'id="note-{note.id}" tabindex="-1" data-focus-me' in body  # focus returns to the restored note
    assert msg("Note restored.") in body


def test_a_stale_version_deletes_nothing_and_shows_the_note_as_it_is_now(client, db, world, csrf):
    volunteer, member, note, _kept = world
    old_version = note.version
    services.edit_note(note, by=volunteer, body="已更正的内容")
    db.session.commit()
    before = dbstate.row_counts()
    response = client.post(_url(member, note), data={"version": str(old_version), "csrf_token": csrf()})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "已更正的内容" in body
    assert f'value="{note.version}"' in body  # confirming again deletes what was shown
    assert dbstate.row_counts() == before
    db.session.rollback()
    assert db.session.get(Note, note.id).deleted_at is None


@pytest.mark.parametrize("version", ["", "abc", "9" * 40, "1\x00"])
def test_bad_version_input_is_never_a_500_and_writes_nothing(client, db, world, csrf, version):
    _volunteer, member, note, _kept = world
    before = dbstate.row_counts()
    response = client.post(_url(member, note), data={"version": version, "csrf_token": csrf()})
    assert response.status_code in (400, 409)
    assert dbstate.row_counts() == before


def test_without_csrf_nothing_is_deleted(client, db, world):
    _volunteer, member, note, _kept = world
    before = dbstate.row_counts()
    response = client.post(_url(member, note), data={"version": str(note.version)})
    assert response.status_code == 400
    assert dbstate.row_counts() == before


def test_deleting_an_already_deleted_note_or_restoring_twice_says_so(client, db, world, csrf):
    volunteer, member, note, _kept = world
    services.delete_note(note, member, by=volunteer)
    db.session.commit()
    response = client.post(_url(member, note), data={"version": str(note.version), "csrf_token": csrf()},
                           follow_redirects=True)
    assert response.status_code == 200 and msg("This note has already been deleted.") in response.get_data(as_text=True)
    client.post(_url(member, note, "restore"), data={"csrf_token": csrf()})
    response = client.post(_url(member, note, "restore"), data={"csrf_token": csrf()}, follow_redirects=True)
    assert msg("This note is not deleted.") in response.get_data(as_text=True)
    assert [a for a, _id, _actor in _actions()] == ["note.delete", "note.restore"]


def test_another_volunteers_note_cannot_be_deleted_but_a_branch_supervisor_can(client, db, login_as, csrf):
    author = factories.make_user("volunteer")
    member = factories.make_member(owner=author)
    note = factories.make_note(member, author)
    colleague = factories.make_user("volunteer", branch=author.branch)
    supervisor = factories.make_user("supervisor", branch=author.branch)
    db.session.commit()
    login_as(colleague)
    assert client.get(_url(member, note)).status_code in (403, 404)
    before = dbstate.row_counts()
    assert client.post(_url(member, note), data={"version": "1", "csrf_token": csrf()}).status_code in (403, 404)
    assert dbstate.row_counts() == before
    client.post("/logout", data={"csrf_token": csrf()})

    login_as(supervisor)
    response = client.post(_url(member, note), data={"version": str(note.version), "csrf_token": csrf()})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Note, note.id).deleted_by_id == supervisor.id


def test_a_note_of_another_member_is_not_found(client, db, world, csrf):
    volunteer, member, note, _kept = world
    other = factories.make_member(owner=volunteer)
    db.session.commit()
    assert client.get(f"/members/{other.id}/notes/{note.id}/delete").status_code == 404
    assert client.post(f"/members/{other.id}/notes/{note.id}/restore", data={"csrf_token": csrf()}).status_code == 404


def test_the_case_file_offers_delete_with_a_confirmation_step_and_htmx_confirm(client, world):
    _volunteer, member, note, _kept = world
    body = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f'href="{_url(member, note)}"' in body  # without JS: the confirmation page
    assert f'hx-post="{_url(member, note)}"' in body and "hx-confirm=" in body


def test_a_deleted_note_cannot_be_corrected_until_it_is_restored(client, csrf, world):
    volunteer, member, note, kept = world
    services.delete_note(note, member, by=volunteer)
    from crm.extensions import db
    db.session.commit()
    before = dbstate.contents()
    response = client.post(f"/members/{member.id}/notes/{note.id}", data={
        "csrf_token": csrf(), "body": "改过的内容", "version": str(note.version)})
    assert response.status_code == 404
    assert dbstate.contents() == before
