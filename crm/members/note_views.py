"""Deleting a case note, with a confirmation step and an undo.

Without JavaScript: "Delete…" opens a confirmation page (GET), whose form POSTs the deletion; the case
file then shows a flash with an "Undo" button (a POST form). With htmx the link POSTs at once after the
browser's ``hx-confirm`` dialog, and the notes panel and the flash (out of band, in the aria-live
region) update in place. The deletion is soft (crm.members.services.delete_note) and audited, and
so is the undo.
"""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth import policy
from crm.errors import Refusal
from crm.extensions import db
from crm.members import bp, services
from crm.members.forms import NoteDeleteForm
from crm.members.models import Note
from crm.members.views import _render_case_file, get_member_for
from crm.web import is_htmx, render


def _note_for(member, note_id: int) -> Note:
    note = db.session.get(Note, note_id)
    if note is None or note.member_id != member.id:
        abort(404)
    if not policy.can_delete_note(current_user, note, member):
        abort(403)
    return note


def _back(member, note=None):
    if is_htmx():
        return _render_case_file(member, block="notes", focus_note=note.id if note else None)
    return redirect(url_for("members.detail", member_id=member.id) + (f"#note-{note.id}" if note else "#notes"))


@bp.route("/<int:member_id>/notes/<int:note_id>/delete", methods=["GET", "POST"])
def delete_note(member_id, note_id):
    member = get_member_for(current_user, member_id, need="edit")
    note = _note_for(member, note_id)
    if note.deleted_at is not None:
        flash(_("This note has already been deleted."), "error")
        return _back(member)
    form = NoteDeleteForm()
    status = 200
    if form.validate_on_submit():
        if form.version.data != str(note.version):
            # Corrected by someone since the confirmation was shown: show it as it is now, delete nothing.
            form.version.data = str(note.version)
            return render("members/note_delete.html", form=form, member=member, note=note, stale=True), 409
        services.delete_note(note, member, by=current_user)
        db.session.commit()
        flash({"text": _("Note deleted."), "undo": url_for("members.restore_note", member_id=member.id,
                                                           note_id=note.id), "target": "#notes"}, "undo")
        return _back(member)
    if form.is_submitted():
        status = 400  # a missing version or an expired form: ask again
    form.version.data = str(note.version)
    return render("members/note_delete.html", form=form, member=member, note=note), status


@bp.route("/<int:member_id>/notes/<int:note_id>/restore", methods=["POST"])
def restore_note(member_id, note_id):
    member = get_member_for(current_user, member_id, need="edit")
    note = _note_for(member, note_id)  # the CSRF token is checked for every POST (crm.extensions.csrf)
    try:
        services.restore_note(note, member, by=current_user)
        db.session.commit()
        flash(_("Note restored."), "success")
    except Refusal as refusal:
        flash(str(refusal.message), "error")
    return _back(member, note)
