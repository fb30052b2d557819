"""Follow-up pages: the list, the dashboard panel, adding, completing, and the calendar feed."""

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from crm.auth import policy
from crm.auth.models import Role
from crm.clock import today
from crm.conflicts import conflict_rows
from crm.counselling.queries import counselled_referrals
from crm.database import as_id
from crm.errors import Refusal
from crm.extensions import db
from crm.followups import bp, ics, queries, services
from crm.followups.forms import CompleteForm, FollowUpFilterForm, FollowUpForm
from crm.followups.models import FollowUp, FollowUpKind
from crm.members.views import get_member_for
from crm.web import is_htmx, render


@bp.route("/")
def index():
    form = FollowUpFilterForm(request.args)
    if not form.validate():
        form = FollowUpFilterForm(formdata=None)
    manages_only = policy.can_view_team(current_user) and not current_user.has_role(Role.VOLUNTEER)
    if manages_only and not request.args.get("scope"):
        form.scope.data = "branch"  # a supervisor without a caseload follows up the whole branch
    scope, show = form.scope.data or "mine", form.show.data or "open"
    return render("followups/index.html", "list", form=form, items=queries.followups(current_user, scope, show),
                  complete_form=CompleteForm(), today=today(), show=show, counselled=counselled_referrals(current_user))


@bp.route("/panel")
def panel():
    due_today, overdue = queries.dashboard_counts(current_user)
    return render("followups/panel.html", "panel", due_today=due_today, overdue=overdue)


@bp.route("/new/<int:member_id>", methods=["POST"])
def new(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = FollowUpForm()
    if form.validate_on_submit():
        services.create_followup(assignee=current_user, member=member, due_on=form.due_on.data,
                                 kind=FollowUpKind(form.kind.data), title=form.title.data, by=current_user)
        db.session.commit()
        flash(_("Follow-up added."), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")  # lazy strings too
    return redirect(url_for("members.detail", member_id=member.id) + "#followups")


def _get_followup_for(user, followup_id: int) -> FollowUp:
    followup = db.session.get(FollowUp, followup_id)
    if followup is None or not policy.can_view_followup(user, followup):
        abort(404)
    return followup


@bp.route("/<int:followup_id>/complete", methods=["POST"])
def complete(followup_id):
    followup = _get_followup_for(current_user, followup_id)
    form = CompleteForm()
    if form.validate_on_submit():
        try:
            # A version that is current when the follow-up is already done comes from the conflict view below:
            # the user saw the saved outcome and saves theirs over it.
            services.complete_followup(followup, by=current_user, outcome=form.outcome.data,
                                       expected_version=as_id(form.version.data) or 0,
                                       reapply=followup.is_done)
            db.session.commit()
        except Refusal as refusal:
            form.outcome.errors = [str(refusal.message)]
        except StaleDataError:  # changed since the row was shown: both versions, nothing of this one written
            db.session.rollback()
            followup = _get_followup_for(current_user, followup_id)
            rows = conflict_rows(form, {"outcome": followup.outcome}, only_differences=False)
            form.version.data = str(followup.version)  # saving again re-applies this outcome over the saved one
            page = render("followups/index.html", "list" if is_htmx() else None, items=[followup],
                          complete_form=form, today=today(), form=FollowUpFilterForm(formdata=None), conflict=rows,
                          counselled=counselled_referrals(current_user))
            return page, 422 if is_htmx() else 409  # htmx swaps 422 only (the row shows the conflict)
    if is_htmx():  # the list block with this one row; the form's hx-select picks the row out
        return render("followups/index.html", "list", items=[followup], complete_form=form, today=today(),
                      form=FollowUpFilterForm(formdata=None), counselled=counselled_referrals(current_user)), \
            (422 if form.errors else 200)
    if form.errors:
        flash(" ".join(form.outcome.errors), "error")
    return redirect(request.referrer or url_for("followups.index"))


@bp.route("/feed/reset", methods=["POST"])
def reset_feed():
    services.reset_ics_token(current_user)
    db.session.commit()
    flash(_("Your calendar link is new; the old one no longer works."), "success")
    return redirect(url_for("followups.index") + "#feed")


@bp.route("/<token>.ics")
def feed(token):
    user = queries.user_by_token(token)
    if user is None:
        abort(404)
    body = ics.calendar(queries.feed_items(user), request.host, _("Queqiao follow-ups"), _feed_summary)
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": "inline; filename=followups.ics"})


def _feed_summary(f: FollowUp) -> str:
    """No names in a feed that calendar services store: the kind and a reference only."""
    subject = f.pairing.reference if f.pairing is not None else _("Case %(n)d", n=f.member_id)
    return f"{f.kind.label} · {subject}"
