"""Photos, consents, export and erasure of one member.

Every view loads and authorises the member first (a foreign or missing one is a 404 before
anything else), then asks for a fresh password where the action needs one.
"""

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from crm.auth import policy
from crm.auth.reauth import password_confirmation_required
from crm.confirm import confirmation_page, confirmed
from crm.errors import Refusal
from crm.extensions import db
from crm.members.views import get_member_for
from crm.pairings.models import Pairing
from crm.privacy import bp, erasure, export, photos, services
from crm.privacy.forms import ConsentForm, EraseForm, ExportForm, PhotoForm
from crm.privacy.texts import TEXTS, Channel, Purpose, current_text
from crm.web import render

PRIVATE = {"Cache-Control": "private, no-store, max-age=0", "X-Content-Type-Options": "nosniff",
           "Content-Disposition": "inline"}


def _photo_response(member):
    path = photos.photo_file(member.photo_path)
    if path is None:
        abort(404)
    # Photos are small (PHOTO_MAX_SIDE): read whole, so no file handle outlives the request.
    return Response(path.read_bytes(), mimetype="image/jpeg", headers=PRIVATE)


@bp.route("/members/<int:member_id>/photo")
def photo(member_id):
    """The photo on the case file: staff who may open the case file."""
    member = get_member_for(current_user, member_id)
    if not policy.can_see_photo(current_user, member):
        abort(404)
    return _photo_response(member)


@bp.route("/pairings/<int:pairing_id>/members/<int:member_id>/photo")
def pairing_photo(pairing_id, member_id):
    """The other side's photo on an introduction: only with their photo consent and their yes."""
    pairing = db.session.get(Pairing, pairing_id)
    if pairing is None or not pairing.involves(member_id) or not policy.can_view_pairing(current_user, pairing):
        abort(404)
    member = pairing.member_a if pairing.member_low_id == member_id else pairing.member_b
    if not policy.can_see_photo(current_user, member, pairing):
        abort(404)
    return _photo_response(member)


def _privacy_page(member, photo_form=None, consent_form=None, status=200):
    return render("privacy/member.html", member=member, photo_form=photo_form or PhotoForm(),
                  consent_form=consent_form or ConsentForm(formdata=None), consents=services.current_consents(member),
                  history=services.consent_history(member), texts={p: current_text(p) for p in Purpose},
                  all_texts=TEXTS, renewal=services.needs_renewal(member),
                  can_edit=policy.can_edit_member(current_user, member),
                  can_export=policy.can_export_member(current_user, member),
                  can_erase=policy.can_erase_member(current_user, member)), status


@bp.route("/members/<int:member_id>/photo/upload", methods=["POST"])
def upload_photo(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            photos.store_photo(member, form.photo.data, by=current_user)
            db.session.commit()
            flash(_("Photo saved."), "success")
            return redirect(url_for("members.detail", member_id=member.id) + "#privacy")
        except Refusal as refusal:
            db.session.rollback()
            form.photo.errors.append(str(refusal.message))
    return _privacy_page(member, photo_form=form, status=422)


@bp.route("/members/<int:member_id>/photo/delete", methods=["POST"])
def delete_photo(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    if member.photo_path and FlaskForm().validate_on_submit() and not confirmed():  # without JS: ask first
        return confirmation_page(
            title=_("Delete the photo of %(name)s?", name=member.name),
            message=_("The photo file is deleted at once and cannot be restored; upload it again if needed."),
            button=_("Delete photo"), back_url=url_for("members.detail", member_id=member.id) + "#privacy")
    if FlaskForm().validate_on_submit() and photos.delete_photo(member, by=current_user):
        db.session.commit()
        flash(_("Photo deleted."), "success")
    return redirect(url_for("members.detail", member_id=member.id) + "#privacy")


@bp.route("/members/<int:member_id>/consents", methods=["GET", "POST"])
def consents(member_id):
    """The member's consents, their history and the texts; recording one (POST)."""
    if request.method == "GET":
        member = get_member_for(current_user, member_id)
        return _privacy_page(member)
    member = get_member_for(current_user, member_id, need="edit")
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            services.record_consent(member, Purpose(form.purpose.data), form.given.data == "given",
                                    Channel(form.channel.data), current_user, comment=form.comment.data)
            db.session.commit()
            flash(_("Consent recorded."), "success")
            return redirect(url_for("privacy.consents", member_id=member.id))
        except Refusal as refusal:
            db.session.rollback()
            form.purpose.errors.append(str(refusal.message))
    return _privacy_page(member, consent_form=form, status=422)


def _member_for_export(member_id):
    member = get_member_for(current_user, member_id)
    if not policy.can_export_member(current_user, member):
        abort(403)
    return member


def export_view(member_id):
    return _export(_member_for_export(member_id))


@password_confirmation_required
def _export(member):
    form = ExportForm()
    if form.validate_on_submit():
        content, mimetype, filename = export.export_member(member, current_user, form.reason.data.strip(),
                                                           form.fmt.data)
        db.session.commit()
        return Response(content, mimetype=mimetype, headers={
            "Content-Disposition": f'attachment; filename="{filename}"', **{
                k: v for k, v in PRIVATE.items() if k != "Content-Disposition"}})
    status = 422 if request.method == "POST" else 200
    return render("privacy/export.html", member=member, form=form), status


bp.add_url_rule("/members/<int:member_id>/export", "export", export_view, methods=["GET", "POST"])


def _member_for_erasure(member_id):
    member = get_member_for(current_user, member_id)
    if not policy.can_erase_member(current_user, member):
        abort(403)
    return member


def erase(member_id):
    return _erase(_member_for_erasure(member_id))


@password_confirmation_required
def _erase(member):
    form = EraseForm()
    if form.validate_on_submit():
        pseudonym = erasure.erase_member(member, current_user, form.reason.data.strip())
        db.session.commit()
        flash(_("The member's data was erased. The case now appears as %(pseudonym)s.", pseudonym=pseudonym),
              "success")
        return redirect(url_for("members.search"))
    status = 422 if request.method == "POST" else 200
    return render("privacy/erase.html", member=member, form=form), status


bp.add_url_rule("/members/<int:member_id>/erase", "erase", erase, methods=["GET", "POST"])
