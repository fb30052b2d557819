"""Correcting a note in place with htmx; the same form still works without JavaScript."""

from crm.members import services
from crm.members.models import Note, NoteRevision
from tests import dbstate, factories
from tests.i18n import msg

HX = {"HX-Request": "true"}


def _setup(db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    note = factories.make_note(member, volunteer, body="周六下午见面")
    db.session.commit()
    return volunteer, member, note


def test_a_correction_with_htmx_returns_the_notes_panel_with_focus_and_the_flash(client, db, login_as, csrf):
    _volunteer, member, note = _setup(db, login_as)
    response = client.post(f"/members/{member.id}/notes/{note.id}", headers=HX,
                           data={"body": "周日下午见面", "version": str(note.version), "csrf_token": csrf()})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section class="panel" id="notes"')
    assert "周日下午见面" in body and f'id="note-{note.id}" tabindex="-1" data-focus-me' in body
    assert msg("Note corrected; the earlier text is kept.") in body and 'hx-swap-oob="innerHTML"' in body
    db.session.rollback()
    assert db.session.get(Note, note.id).body == "周日下午见面"
    assert db.session.query(NoteRevision).one().body == "周六下午见面"


def test_a_bad_correction_with_htmx_keeps_the_typed_text_beside_the_message(client, db, login_as, csrf):
    _volunteer, member, note = _setup(db, login_as)
    before = dbstate.row_counts()
    typed = "长" * 4001
    response = client.post(f"/members/{member.id}/notes/{note.id}", headers=HX,
                           data={"body": typed, "version": str(note.version), "csrf_token": csrf()})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert typed in body and f'id="note-body-{note.id}-error"' in body and 'aria-invalid="true"' in body
    assert '<details class="edit-note" open>' in body
    assert dbstate.row_counts() == before
    db.session.rollback()
    assert db.session.get(Note, note.id).body == "周六下午见面"


def test_a_stale_correction_with_htmx_shows_the_conflict_in_the_main_area(client, db, login_as, csrf):
    volunteer, member, note = _setup(db, login_as)
    old_version = note.version
    services.edit_note(note, by=volunteer, body="别人改过的内容")
    db.session.commit()
    before = dbstate.row_counts()
    response = client.post(f"/members/{member.id}/notes/{note.id}", headers=HX,
                           data={"body": "我的版本", "version": str(old_version), "csrf_token": csrf()})
    body = response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#main" and "<html" not in body
    assert "我的版本" in body and "别人改过的内容" in body
    assert dbstate.row_counts() == before


def test_without_htmx_a_correction_still_redirects_to_the_note(client, db, login_as, csrf):
    _volunteer, member, note = _setup(db, login_as)
    response = client.post(f"/members/{member.id}/notes/{note.id}",
                           data={"body": "周日下午见面", "version": str(note.version), "csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#note-{note.id}")
