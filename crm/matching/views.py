"""Suggestions on the case file: the ranked candidates with reasons, and "why is X not suggested?".

The blueprint lives here, not in ``crm/matching/__init__.py``, so that the engine package itself
imports without Flask.
"""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from crm.auth import policy
from crm.auth.models import Branch
from crm.conflicts import conflict_rows
from crm.database import as_id
from crm.extensions import db
from crm.matching import messages, service
from crm.matching.forms import SuggestionFilterForm, WeightsForm, WhyNotForm
from crm.matching.reference import Narrow
from crm.matching.scoring import Weights
from crm.members.models import Member
from crm.members.views import get_member_for
from crm.web import is_htmx, render

bp = Blueprint("matching", __name__)


def _page(member, block=None, status=200, **ctx):
    ctx.setdefault("form", SuggestionFilterForm(request.args))
    ctx.setdefault("why", WhyNotForm(formdata=None))
    return render("matching/suggestions.html", block=block if is_htmx() else None, member=member,
                  messages=messages, **ctx), status


@bp.route("/members/<int:member_id>/suggestions")
def suggestions(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = SuggestionFilterForm(request.args)
    if not form.validate():
        return _page(member, "results", 422, form=form, found=[])
    narrow = Narrow(area=form.district.data or None, age_min=form.age_min.data, age_max=form.age_max.data)
    return _page(member, "results", form=form, found=service.suggestions(member, narrow))


@bp.route("/members/<int:member_id>/why-not")
def why_not(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    why = WhyNotForm(request.args)
    if "other" not in request.args:
        return _page(member, "why", why=why, found=None)
    other_id = as_id(why.other.data) if why.validate() else None
    if why.other.errors and request.args["other"].strip().isdigit():
        why.other.errors = []  # a number beyond any id: no such candidate, like any other unknown number
    other = db.session.get(Member, other_id) if other_id else None
    unknown = other is None or not policy.can_see_candidate(current_user, other)
    if request.args["other"].strip() and not why.other.errors and unknown:
        why.other.errors = [_("There is no candidate with this number.")]
    if why.other.errors or other is None:
        return _page(member, "why", 422, why=why, found=None)
    reason = service.why_not(member, other)
    answer = (messages.filter_message(reason, candidate_visible=policy.can_view_member(current_user, other))
              if reason else _("No hard filter excludes this pair; the candidate ranks by score among the others."))
    return _page(member, "why", why=why, answer=answer, excluded=reason is not None, found=None)


@bp.route("/matching/weights", methods=["GET", "POST"])
def weights():
    """Admins: the score weights of one branch (``?branch_id=``)."""
    branches = db.session.scalars(db.select(Branch).order_by(Branch.name)).all()
    if not branches:
        return render("matching/weights.html", form=None, defaults=Weights())
    branch_id = as_id(request.values.get("branch_id")) or branches[0].id
    current = service.branch_weights(branch_id)
    form = WeightsForm(data={"branch_id": branch_id, **current.as_dict(),
                             "version": str(service.branch_weights_version(branch_id))})
    form.branch_id.choices = [SelectChoice(b.id, b.name) for b in branches]
    if form.validate_on_submit():
        branch = db.session.get(Branch, form.branch_id.data)
        try:
            # The posted version only: a POST without one must not fall back to the current version.
            service.save_branch_weights(branch, Weights(**{n: form[n].data for n in WeightsForm.WEIGHT_FIELDS}),
                                        current_user, version=request.form.get("version", ""))
            db.session.commit()
            flash(_("Weights saved for %(branch)s.", branch=branch.name), "success")
            return redirect(url_for("matching.weights", branch_id=branch.id))
        except StaleDataError:  # saved by someone else since the form was opened: show both, write nothing
            db.session.rollback()
            rows = conflict_rows(form, service.branch_weights(branch.id).as_dict())
            form.version.data = str(service.branch_weights_version(branch.id))  # saving again re-applies
            return render("matching/weights.html", form=form, defaults=Weights(), conflict=rows,
                          conflict_branch=branch.id), 409
    return render("matching/weights.html", form=form, defaults=Weights()), (422 if form.errors else 200)
