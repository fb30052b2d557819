"""Intake pages: the public application (职工点单), the supervisors' queue, the roster import."""

import logging

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from crm import throttle
from crm.auth import policy
from crm.auth.models import Role
from crm.errors import Refusal
from crm.extensions import db
from crm.intake import bp, queries, roster, services, uploads
from crm.intake.forms import AcceptForm, ApplicationForm, ConfirmForm, RejectForm, UploadForm, pool_choices
from crm.intake.models import ApplicationStatus
from crm.privacy.texts import Purpose, current_text
from crm.web import render

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Public self-registration ----------------------------------------------------------------

def _application_form():
    form = ApplicationForm()
    form.branch_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(b.id), b.name, optgroup=b.city) for b in queries.branches()]
    if request.method == "GET" and request.args.get("branch", "").isdigit():
        form.branch_id.data = request.args["branch"]
    return form


def _render_apply(form, status=200, refused=None):
    texts = {p.value: current_text(p) for p in Purpose}
    return render("intake/apply.html", form=form, texts=texts, refused=refused), status


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    form = _application_form()
    if request.method == "POST":
        cfg = current_app.config
        # Counted before anything else (it commits its counter): every submission from the address counts.
        if not throttle.allow(f"intake:ip:{request.remote_addr}", cfg["INTAKE_RATE_LIMIT"], cfg["INTAKE_RATE_SECONDS"]):
            return _render_apply(form, 429, refused=_("Too many applications were sent from this network. "
                                                      "Please try again in an hour."))
        if form.validate_on_submit():
            if form.website.data:  # the honeypot: a robot filled in the hidden field; pretend all went well
                log.info("intake honeypot filled from %s", request.remote_addr)
                return redirect(url_for("intake.thanks"))
            branch = next((b for b in queries.branches() if str(b.id) == form.branch_id.data), None)
            services.submit_application(form, branch)
            db.session.commit()
            return redirect(url_for("intake.thanks"))
        return _render_apply(form, 422)
    return _render_apply(form)


@bp.route("/apply/thanks")
def thanks():
    return render("intake/thanks.html")


# --- The supervisors' queue ------------------------------------------------------------------

def get_application_for(user, application_id: int):
    application = queries.application(application_id)
    if application is None or not policy.can_decide_application(user, application):
        abort(404)
    return application


@bp.route("/intake/")
def queue():
    status = request.args.get("status", "pending")
    status = ApplicationStatus(status) if status in {s.value for s in ApplicationStatus} else ApplicationStatus.PENDING
    return render("intake/queue.html", applications=queries.queue(current_user, status), status=status,
                  statuses=list(ApplicationStatus))


def _render_application(application, accept_form=None, reject_form=None, status=200):
    if accept_form is None:
        accept_form = AcceptForm()
    accept_form.owner_id.choices = pool_choices(queries.branch_volunteers(application.branch_id),
                                                _("Leave in the pool"))
    duplicate = application.duplicate_member
    return render("intake/application.html", application=application, accept_form=accept_form,
                  reject_form=reject_form or RejectForm(), duplicate=duplicate,
                  duplicate_visible=duplicate is not None and policy.can_view_member(current_user, duplicate),
                  same_person=[a for a in queries.same_person(application)
                               if policy.can_decide_application(current_user, a)],
                  texts={p.value: current_text(p) for p in Purpose}), status


@bp.route("/intake/<int:application_id>")
def application(application_id):
    application = get_application_for(current_user, application_id)
    services.refresh_duplicate(application)
    db.session.commit()
    return _render_application(application)


@bp.route("/intake/<int:application_id>/accept", methods=["POST"])
def accept(application_id):
    application = get_application_for(current_user, application_id)
    form = AcceptForm()
    form.owner_id.choices = pool_choices(queries.branch_volunteers(application.branch_id), _("Leave in the pool"))
    if not form.validate_on_submit():
        return _render_application(application, accept_form=form, status=422)
    owner = next((u for u in queries.branch_volunteers(application.branch_id)
                  if str(u.id) == form.owner_id.data), None)
    try:
        member = services.accept_application(application, by=current_user, owner=owner)
    except Refusal as refusal:
        db.session.rollback()
        application = get_application_for(current_user, application_id)
        form.owner_id.errors.append(str(refusal.message))
        return _render_application(application, accept_form=form, status=422)
    db.session.commit()
    flash(_("%(name)s is now a member (waiting for verification).", name=member.name), "success")
    if policy.can_view_member(current_user, member):
        return redirect(url_for("members.detail", member_id=member.id))
    return redirect(url_for("intake.queue"))


@bp.route("/intake/<int:application_id>/reject", methods=["POST"])
def reject(application_id):
    application = get_application_for(current_user, application_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_application(application, reject_form=form, status=422)
    try:
        services.reject_application(application, by=current_user, reason=form.reason.data)
    except Refusal as refusal:
        db.session.rollback()
        application = get_application_for(current_user, application_id)
        form.reason.errors.append(str(refusal.message))
        return _render_application(application, reject_form=form, status=422)
    db.session.commit()
    flash(_("The application was rejected."), "success")
    return redirect(url_for("intake.queue"))


# --- Roster import ---------------------------------------------------------------------------

def _upload_form():
    form = UploadForm()
    if current_user.has_role(Role.ADMIN):
        form.branch_id.choices = [SelectChoice(str(b.id), b.name) for b in queries.branches()]
        if request.method == "GET" and not form.branch_id.data:
            form.branch_id.data = str(current_user.branch_id)
    else:  # a supervisor imports into their own branch
        form.branch_id.choices = [SelectChoice(str(current_user.branch_id), current_user.branch.name)]
        form.branch_id.data = str(current_user.branch_id)
    return form


@bp.route("/intake/import", methods=["GET", "POST"])
def import_upload():
    form = _upload_form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            upload = request.files.get("file")
            content = uploads.read_upload(upload.stream if upload else None)
            table = roster.read_table(content)  # refuses what is not a readable spreadsheet
        except Refusal as refusal:
            form.file.errors = [*form.file.errors, str(refusal.message)]
            return render("intake/import_upload.html", form=form, columns=roster.COLUMNS), 422
        token = uploads.save(content, table, user_id=current_user.id, branch_id=int(form.branch_id.data),
                             filename=upload.filename or "")
        return redirect(url_for("intake.import_preview", token=token))
    status = 422 if request.method == "POST" else 200
    return render("intake/import_upload.html", form=form, columns=roster.COLUMNS), status


@bp.route("/intake/import/template.xlsx")
def import_template():
    return _xlsx(roster.template_workbook(), "queqiao-roster-template.xlsx")


def _load_upload(token: str):
    """The kept upload, checked against the user, and its rows; 404 for anyone else's or an expired one."""
    found = uploads.load(token, user_id=current_user.id)
    if found is None:
        abort(404)
    table, meta = found
    branch = next((b for b in queries.branches() if b.id == meta["branch_id"]), None)
    if branch is None or not (current_user.has_role(Role.ADMIN) or branch.id == current_user.branch_id):
        abort(404)
    return roster.check_rows(table), meta, branch


@bp.route("/intake/import/<token>")
def import_preview(token):
    parsed, meta, branch = _load_upload(token)
    return render("intake/import_preview.html", parsed=parsed, meta=meta, branch=branch, token=token,
                  form=ConfirmForm(), columns=roster.COLUMNS, shown=500)


@bp.route("/intake/import/<token>/confirm", methods=["POST"])
def import_confirm(token):
    parsed, meta, branch = _load_upload(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        count = roster.import_rows(parsed, by=current_user, branch=branch, file_hash=meta["sha256"],
                                   filename=meta["filename"])
        db.session.commit()
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
        return redirect(url_for("intake.import_preview", token=token))
    except Exception:
        db.session.rollback()
        log.exception("roster import failed; nothing was imported")
        flash(_("The import failed and nothing was imported. Please try again."), "error")
        return redirect(url_for("intake.import_preview", token=token))
    uploads.discard(token)
    flash(ngettext("%(num)d member was imported into the pool of %(branch)s.",
                   "%(num)d members were imported into the pool of %(branch)s.", count, branch=branch.name), "success")
    return redirect(url_for("members.search", owner="pool"))


@bp.route("/intake/import/<token>/rejects.xlsx")
def import_rejects(token):
    parsed, meta, branch = _load_upload(token)
    return _xlsx(roster.rejects_workbook(parsed), "queqiao-rejected-rows.xlsx")


def _xlsx(content: bytes, name: str):
    import io
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)
