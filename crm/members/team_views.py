"""Supervisor pages: the team's caseloads, the unassigned pool and reassignment."""

from urllib.parse import parse_qs, urlsplit

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from crm import i18n
from crm.auth import policy
from crm.auth.models import Branch, Role, User
from crm.confirm import confirmation_page, confirmed
from crm.database import as_id
from crm.errors import Refusal
from crm.extensions import db
from crm.members import bp, queries, services
from crm.members.forms import BulkReassignForm, ReassignForm
from crm.members.models import Member
from crm.web import render


def volunteer_rows(user) -> list:
    """``queries.assignable_volunteers(user)`` as (id, display_name, branch_name) rows, in the same order: the
    drop-downs of volunteers need no more (~100 User entities with their branches, ~1,900 for an admin, were a
    fifth of a supervisor's member search; issue 10)."""
    query = (User.with_role(Role.VOLUNTEER).join(Branch, Branch.id == User.branch_id)
             .with_only_columns(User.id, User.display_name, Branch.name.label("branch_name"))
             .order_by(User.display_name, User.id))
    if not user.has_role(Role.ADMIN):
        query = query.where(User.branch_id == user.branch_id)
    return db.session.execute(query).all()


def _volunteer_choices(volunteers=None):
    """``volunteers``: rows of ``volunteer_rows`` (by default the current user's)."""
    if volunteers is None:
        volunteers = volunteer_rows(current_user)
    label = i18n.gettext("%(name)s (%(branch)s)")  # translated once, filled in per volunteer
    return [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(v.id), label % {"name": v.display_name, "branch": v.branch_name}) for v in volunteers]


def bulk_reassign_form(volunteers=None):
    if not policy.can_view_team(current_user):
        return None
    form = BulkReassignForm(formdata=None)
    form.to_user_id.choices = _volunteer_choices(volunteers)
    return form


@bp.route("/team")
def team():
    return render("members/team.html", team=queries.team_overview(current_user),
                  pool_size=queries.pool_size(current_user))


def _target_user(form):
    to_user_id = as_id(form.to_user_id.data)
    to_user = db.session.get(User, to_user_id) if to_user_id else None
    if to_user is None:
        raise Refusal(_("Choose a volunteer."), field="to_user_id")
    return to_user


def _check_capacity(form, members):
    """Above the new volunteer's capacity: a warning beside "Assign anyway" until it is ticked."""
    warning = services.capacity_warning(members, _target_user(form))
    if warning and not form.over_capacity_ok.data:
        raise Refusal(warning, field="over_capacity_ok")


@bp.route("/<int:member_id>/reassign", methods=["GET", "POST"])
def reassign(member_id):
    from crm.members.views import get_member_for
    member = get_member_for(current_user, member_id)
    if not policy.can_reassign_member(current_user, member):
        abort(403)
    form = ReassignForm()
    form.to_user_id.choices = _volunteer_choices()
    shown_owner = str(member.owner_id or "")
    if form.validate_on_submit():
        try:
            if form.from_owner.data != shown_owner:
                form.from_owner.data = shown_owner  # the page now says who has it; saving again moves it
                raise Refusal(_("Someone else reassigned this case after you opened this page. Check who has it "
                                "now, then reassign again if you still want to."), field="to_user_id")
            _check_capacity(form, [member])
            services.reassign_members([member], _target_user(form), by=current_user, reason=form.reason.data)
            db.session.commit()
            flash(_("Case reassigned."), "success")
            return redirect(url_for("members.detail", member_id=member.id))
        except Refusal as refusal:
            getattr(form, refusal.field or "to_user_id").errors.append(str(refusal.message))
    if not form.is_submitted():
        form.from_owner.data = shown_owner
    return render("members/reassign.html", member=member, form=form), 422 if form.errors else 200


@bp.route("/reassign", methods=["POST"])
def reassign_bulk():
    form = BulkReassignForm()
    form.to_user_id.choices = _volunteer_choices()
    back = form.next.data if (form.next.data or "").startswith("/members") else url_for("members.search")
    if form.validate_on_submit():
        ids = [i for i in form.member_ids.data if as_id(i)]  # a number no id can have is a member that is gone
        members = list(db.session.scalars(select(Member).where(Member.id.in_(ids))))
        try:
            if len(members) != len(set(form.member_ids.data)):
                raise Refusal(_("Some of the selected members no longer exist."), field="member_ids")
            _check_capacity(form, members)
            services.check_reassignment(members, _target_user(form), by=current_user)
            if not confirmed():  # ask first: it moves many case files at once
                return confirmation_page(
                    title=ngettext("Reassign %(num)d member?", "Reassign %(num)d members?", len(members)),
                    message=_("Their case files move to %(name)s, who looks after them from now on.",
                              name=_target_user(form).display_name),
                    button=_("Reassign"), back_url=back)
            moved = services.reassign_members(members, _target_user(form), by=current_user,
                                              reason=form.reason.data)
            db.session.commit()
            flash(ngettext("%(num)d case reassigned.", "%(num)d cases reassigned.", moved), "success")
            return redirect(back)
        except Refusal as refusal:
            db.session.rollback()
            getattr(form, refusal.field or "member_ids").errors.append(str(refusal.message))
    # Show the list the user came from again, with the errors beside the fields and the selection kept.
    from crm.members.views import _list_page
    parts = urlsplit(back)
    args = MultiDict([(k, v) for k, vs in parse_qs(parts.query).items() for v in vs])
    title = "caseload" if parts.path == url_for("members.index") else "search"
    return _list_page(title, args=args, bulk_form=form), 422
