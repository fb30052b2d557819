"""Member pages: caseload, search, case file, profile editing, notes, verification, status."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from crm.audit.services import record_now
from crm.auth import policy
from crm.auth.models import Role
from crm.blankforms import Blank
from crm.conflicts import conflict_rows
from crm.errors import Refusal
from crm.extensions import db
from crm.members import bp, listing, queries, services
from crm.members.forms import (
    MemberForm,
    NewMemberForm,
    NoteEditForm,
    NoteForm,
    SearchForm,
    StatusForm,
    VerifyForm,
    offer_from_current_status,
)
from crm.members.models import CloseReason, MemberStatus, Note, NoteKind
from crm.members.team_views import bulk_reassign_form, volunteer_rows
from crm.web import is_htmx, render


def get_member_for(user, member_id: int, need: str = "view"):
    """The member, if ``user`` may ``need`` it; otherwise 404 (no hint that it exists)."""
    member = queries.case_file(member_id)
    check = {"view": policy.can_view_member, "edit": policy.can_edit_member,
             "verify": policy.can_verify_member}[need]
    if member is None or not policy.can_view_member(user, member):
        abort(404)
    if not check(user, member):
        abort(403)
    return member


def _stale_message():
    return _("Someone else saved this record after you opened it. Reload to see their changes, "
             "then make yours again.")


def _list_page(title_key: str, preset_owner: str = "", args=None, bulk_form=None):
    args = request.args if args is None else args
    form = SearchForm(args)
    # One query for the volunteers, shared by the owner filter and the bulk reassign form.
    volunteers = volunteer_rows(current_user) if policy.can_view_team(current_user) else []
    form.owner.choices = _owner_choices(volunteers)
    if preset_owner and not args.get("owner"):
        form.owner.data = preset_owner
    filters = queries.MemberFilters(
        q=form.q.data or "", status=form.status.data or "", gender=form.gender.data or "",
        age_min=form.age_min.data, age_max=form.age_max.data, district=form.district.data or "",
        owner=form.owner.data or "") if form.validate() else queries.MemberFilters(owner=preset_owner)
    page = form.page.data if not form.page.errors and form.page.data else 1
    per_page = current_app.config["PAGE_SIZE"]
    bulk_form = bulk_form or bulk_reassign_form(volunteers)
    rows, total = listing.member_rows(current_user, queries.filter_conditions(filters), page, per_page,
                                      selectable=bulk_form is not None)
    return render("members/list.html", "results", form=form, rows=rows, total=total, page=page,
                  per_page=per_page, title_key=title_key, bulk_form=bulk_form,
                  args={k: v for k, v in args.items() if k != "page"})


def _owner_choices(volunteers):
    choices = [SelectChoice("", _("Anyone")), SelectChoice(queries.POOL, _("Unassigned (pool)"))]
    if policy.can_view_team(current_user):
        choices += [SelectChoice(str(u.id), u.display_name) for u in volunteers]
    elif current_user.has_role(Role.VOLUNTEER):
        choices.append(SelectChoice(str(current_user.id), current_user.display_name))
    return choices


@bp.route("/")
def index():
    if not current_user.has_role(Role.VOLUNTEER):
        return redirect(url_for("members.search"))
    return _list_page("caseload", preset_owner=str(current_user.id))


@bp.route("/search")
def search():
    return _list_page("search")


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewMemberForm()
    volunteers = queries.assignable_volunteers(current_user) if policy.can_view_team(current_user) else []
    form.owner_id.choices = [SelectChoice("", _("Unassigned (pool)"))] + [
        SelectChoice(str(v.id), v.display_name) for v in volunteers]
    if current_user.has_role(Role.VOLUNTEER) and not volunteers:
        form.owner_id.choices = [SelectChoice(str(current_user.id), current_user.display_name)]
    if request.method == "GET" and current_user.has_role(Role.VOLUNTEER):
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        if services.find_duplicate(form):
            form.phone.errors.append(_("A member with this phone or ID number is already registered."))
        else:
            owner = next((v for v in volunteers if str(v.id) == form.owner_id.data), None)
            if owner is None and form.owner_id.data == str(current_user.id):
                owner = current_user
            member = services.create_member(form, by=current_user, branch=current_user.branch, owner=owner)
            db.session.commit()
            flash(_("Case file created."), "success")
            return redirect(url_for("members.detail", member_id=member.id))
    return render("members/form.html", form=form, member=None)


@bp.route("/<int:member_id>")
def detail(member_id):
    member = get_member_for(current_user, member_id)
    page = _render_case_file(member)
    record_now(current_user, "member.view", member)  # one pre-built INSERT: nothing for the commit to flush
    db.session.commit()  # after rendering: committing first expired everything and cost 2-3 reloads
    return page


def _render_case_file(member, note_form=None, status_form=None, block=None, focus_note=None, note_edit=None):
    """The case file, or its ``block`` for htmx. Forms not given are shown blank (crm.blankforms: rendered once,
    not built per view)."""
    status_form = status_form or Blank(
        StatusForm, offer_from_current_status, varying={"version": member.version}, status=member.status.value,
        close_reason=member.close_reason.value if member.close_reason else "")
    return render("members/detail.html", block, member=member,
                  notes=queries.recent_notes(member.id), history=queries.assignment_history(member.id),
                  verifiers=queries.verifier_names(member), checks=services.VERIFICATION_CHECKS,
                  note_form=note_form or Blank(NoteForm), verify_form=Blank(VerifyForm), status_form=status_form,
                  focus_note=focus_note, note_edit=note_edit or (None, None),
                  note_kinds={kind: kind.label for kind in NoteKind},  # once per page, not per note
                  interest_labels=_interest_labels(), **_counselling_panel(member), **_pairing_panels(member))


def _pairing_panels(member):
    from crm.pairings.queries import case_file_panels  # pairings imports this module
    return case_file_panels(current_user, member)


def _counselling_panel(member):
    from crm.counselling.views import case_file_panel  # counselling imports this module
    return case_file_panel(member)


def _interest_labels():
    from crm.members.vocab import INTERESTS
    return INTERESTS


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
def edit(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = MemberForm(obj=None if request.method == "POST" else _form_data(member))
    if form.validate_on_submit():
        try:
            if str(member.version) != form.version.data:
                raise StaleDataError
            if services.find_duplicate(form, exclude_id=member.id):
                form.phone.errors.append(_("A member with this phone or ID number is already registered."))
                return render("members/form.html", form=form, member=member)
            services.update_member(member, form, by=current_user)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            flash(_stale_message(), "error")
            member = get_member_for(current_user, member_id, need="edit")
            rows = conflict_rows(form, vars(_form_data(member)))
            form.version.data = str(member.version)  # saving again re-applies this version over the saved one
            return render("members/form.html", form=form, member=member, stale=True, conflict=rows), 409
        flash(_("Profile saved."), "success")
        return redirect(url_for("members.detail", member_id=member.id))
    return render("members/form.html", form=form, member=member)


def _form_data(member):
    """An object whose attributes pre-fill a MemberForm from the stored member."""
    from types import SimpleNamespace

    data = {c: getattr(member, c) for c in (
        "name", "birth_date", "phone", "wechat_id", "employer", "union_name", "is_union_member",
        "occupation_category", "occupation", "height_cm", "hometown", "children_count", "self_intro",
        "interests", "opt_out_suggestions", "pref_age_min", "pref_age_max", "pref_height_min",
        "pref_height_max", "pref_districts", "pref_accepts_divorced", "pref_accepts_children", "version")}
    data.update(gender=member.gender.value, education=member.education.value, tier=member.tier.value,
                marital_history=member.marital_history.value, settle_city=member.settle_city or "",
                work_area=f"{member.work_city}/{member.work_district}",
                home_area=f"{member.home_city}/{member.home_district}",
                pref_min_education=member.pref_min_education.value if member.pref_min_education else "",
                id_number="")
    data.update({f"value_{k}": str(v) for k, v in (member.values_answers or {}).items()})
    return SimpleNamespace(**data)


@bp.route("/<int:member_id>/notes", methods=["POST"])
def add_note(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = NoteForm()
    if form.validate_on_submit():
        services.add_note(member, by=current_user, kind=NoteKind(form.kind.data), body=form.body.data,
                          contact_on=form.contact_on.data)
        db.session.commit()
        if not is_htmx():
            flash(_("Note added."), "success")
            return redirect(url_for("members.detail", member_id=member.id) + "#notes")
        form = None  # a blank form again
    elif not is_htmx():
        return _render_case_file(member, note_form=form), 422
    return _render_case_file(member, note_form=form, block="notes"), (422 if form is not None else 200)


@bp.route("/<int:member_id>/notes/<int:note_id>", methods=["POST"])
def edit_note(member_id, note_id):
    member = get_member_for(current_user, member_id, need="edit")
    note = db.session.get(Note, note_id)
    if note is None or note.member_id != member.id or note.deleted_at is not None:  # a deleted note is restored first
        abort(404)
    if not policy.can_edit_note(current_user, note, member):
        abort(403)
    form = NoteEditForm()
    if form.validate_on_submit():
        try:
            if form.version.data != str(note.version):
                raise StaleDataError
            if services.edit_note(note, by=current_user, body=form.body.data):
                db.session.commit()
                flash(_("Note corrected; the earlier text is kept."), "success")
        except StaleDataError:  # saved by someone else since it was opened: both texts, nothing of this one written
            db.session.rollback()
            note = db.session.get(Note, note_id)
            rows = conflict_rows(form, {"body": note.body}, only_differences=False)
            form.version.data = str(note.version)  # saving again re-applies this text over the saved one
            page = render("members/note_conflict.html", "content", form=form, member=member, note=note,
                          conflict=rows)
            if is_htmx():  # in place: the conflict page replaces the main content (htmx swaps 2xx/422 only)
                return page, 200, {"HX-Retarget": "#main", "HX-Reswap": "innerHTML show:top"}
            return page, 409
    elif is_htmx():  # in place: the note's form comes back open with the typed text and the message
        return _render_case_file(member, block="notes", note_edit=(note.id, form)), 422
    else:
        flash(" ".join(form.body.errors) or _("The note could not be saved."), "error")
    if is_htmx():
        return _render_case_file(member, block="notes", focus_note=note.id)
    return redirect(url_for("members.detail", member_id=member.id) + f"#note-{note.id}")


@bp.route("/<int:member_id>/verify", methods=["POST"])
def verify(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = VerifyForm()
    if form.validate_on_submit():
        if not policy.can_record_check(current_user, member, form.check.data):
            abort(403)
        status = member.status
        try:
            services.verify_member(member, form.check.data, by=current_user)
            db.session.commit()
            flash(_("Verification recorded."), "success")
        except Refusal as refusal:
            flash(str(refusal.message), "error")
        if is_htmx() and member.status is not status:
            # The last step made the member active: the page head and the status form show it too, so the whole
            # page reloads (the flash shows there) instead of one panel disagreeing with the rest.
            return "", 200, {"HX-Refresh": "true"}
    if is_htmx():
        return _render_case_file(member, block="verification")
    return redirect(url_for("members.detail", member_id=member.id) + "#verification")


@bp.route("/<int:member_id>/status", methods=["POST"])
def set_status(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = StatusForm()
    if form.validate_on_submit():
        try:
            if form.version.data != str(member.version):
                raise Refusal(_stale_message(), field="status")
            reason = CloseReason(form.close_reason.data) if form.close_reason.data else None
            services.set_status(member, MemberStatus(form.status.data), by=current_user, close_reason=reason)
            db.session.commit()
            flash(_("Status changed."), "success")
            return redirect(url_for("members.detail", member_id=member.id))
        except Refusal as refusal:
            getattr(form, refusal.field or "status").errors.append(str(refusal.message))
    return _render_case_file(member, status_form=form.offer_from(member.status)), 422
