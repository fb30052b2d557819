"""Counselling pages: counsellor home, referral and session log, referral, sessions, risk alerts."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from crm.audit.services import record
from crm.auth import policy
from crm.auth.models import Role, User
from crm.blankforms import Blank
from crm.confirm import confirmation_page, confirmed
from crm.conflicts import conflict_rows
from crm.counselling import bp, queries, services
from crm.counselling.forms import AssignForm, CloseForm, EmptyForm, ReferralForm, SessionForm, ShareForm
from crm.counselling.models import ConsentChannel, Risk, RiskAlert, SessionMode, Topic
from crm.database import as_id
from crm.errors import Refusal
from crm.extensions import db
from crm.members.views import get_member_for
from crm.web import render


@bp.app_context_processor
def _risk_banner():
    """``risk_alert_count()`` for base.html: one count, only when a supervisor's page asks for it."""
    def risk_alert_count():
        if current_user.is_authenticated and current_user.has_role(Role.SUPERVISOR):
            return queries.open_risk_alert_count(current_user)
        return 0
    return {"risk_alert_count": risk_alert_count}


def get_referral_for(user, referral_id: int, check=None):
    """The referral if ``user`` may see it (else 404) and pass ``check`` (else 403)."""
    referral = queries.referral(referral_id)
    if referral is None or not policy.can_view_referral(user, referral):
        abort(404)
    if check is not None and not check(user, referral):
        abort(403)
    return referral


def _refuse_into(form, refusal: Refusal, default: str):
    getattr(form, refusal.field or default).errors.append(str(refusal.message))


@bp.route("/")
def home():
    return render("counselling/home.html", lists=queries.counsellor_home(current_user))


@bp.route("/referrals/<int:referral_id>")
def referral(referral_id):
    referral = get_referral_for(current_user, referral_id)
    record(current_user, "referral.view", referral, member_id=referral.member_id)
    notes = queries.readable_notes(current_user, referral)
    db.session.commit()
    return _render_referral(referral, notes)


def _render_referral(referral, notes=None, assign_form=None, close_form=None, share_form=None, status=200,
                     conflict=None):
    assign_form = assign_form or AssignForm()
    assign_form.counsellor_id.choices = _counsellor_choices(referral)
    close_form = close_form or CloseForm()
    # The forms carry the version shown; after a conflict that is the saved one, so saving again re-applies.
    assign_form.version.data = close_form.version.data = str(referral.version)
    share_form = share_form or ShareForm()
    share_form.counsellor_id.choices = [SelectChoice(str(u.id), f"{u.display_name} · {u.branch.name}")
                                        for u in queries.share_candidates(referral, current_user)]
    return render("counselling/referral.html", referral=referral, sessions=queries.sessions(referral.id),
                  notes=notes or {}, assign_form=assign_form, close_form=close_form,
                  share_form=share_form, button_form=EmptyForm(), conflict=conflict), status


def _counsellor_choices(referral):
    return [SelectChoice(str(u.id), u.display_name) for u in queries.branch_counsellors(referral.branch_id)]


def _conflict(referral_id, form, check):
    """Someone saved the referral since this form was shown: the page again (409) with both versions."""
    db.session.rollback()
    referral = get_referral_for(current_user, referral_id, check=check)
    saved = {"counsellor_id": str(referral.counsellor_id or ""), "outcome": referral.outcome}
    form_args = {"assign_form" if isinstance(form, AssignForm) else "close_form": form}
    return _render_referral(referral, status=409, conflict=conflict_rows(form, saved), **form_args)


def _stale(referral, form) -> bool:
    return as_id(form.version.data) != referral.version


@bp.route("/referrals/<int:referral_id>/profile")
def profile(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_view_member_profile)
    record(current_user, "member.view", referral.member, via="counselling", referral_id=referral.id)
    db.session.commit()
    return render("counselling/profile.html", referral=referral, member=referral.member)


@bp.route("/members/<int:member_id>/refer", methods=["GET", "POST"])
def refer(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form = ReferralForm()
    form.pairing_id.choices = _pairing_choices(member)
    if form.validate_on_submit():
        try:
            services.refer_member(member, by=current_user, reason=form.reason.data, consent=form.consent.data,
                                  channel=ConsentChannel(form.consent_channel.data),
                                  self_referred=form.self_referred.data,
                                  pairing_id=int(form.pairing_id.data) if form.pairing_id.data else None)
            db.session.commit()
            flash(_("Referred to counselling. A counsellor of the branch will take it up."), "success")
            return redirect(url_for("members.detail", member_id=member.id) + "#counselling")
        except Refusal as refusal:
            _refuse_into(form, refusal, "reason")
    status = 422 if form.errors else 200
    return render("counselling/refer.html", form=form, member=member), status


def _pairing_choices(member):
    from crm.pairings.models import Pairing
    pairings = db.session.scalars(select(Pairing).where(
        or_(Pairing.member_low_id == member.id, Pairing.member_high_id == member.id)).order_by(Pairing.id.desc()))
    return [SelectChoice("", _("No particular introduction"))] + [
        SelectChoice(str(p.id), f"{p.reference} · {p.stage.label}") for p in pairings]


@bp.route("/referrals/<int:referral_id>/accept", methods=["POST"])
def accept(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_accept_referral)
    if EmptyForm().validate_on_submit():
        try:
            services.accept_referral(referral, by=current_user)
            db.session.commit()
            flash(_("You have taken this referral."), "success")
        except Refusal as refusal:
            db.session.rollback()
            flash(str(refusal.message), "error")
            return redirect(url_for("counselling.home"))
    return redirect(url_for("counselling.referral", referral_id=referral.id))


@bp.route("/referrals/<int:referral_id>/assign", methods=["POST"])
def assign(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_assign_referral)
    form = AssignForm()
    form.counsellor_id.choices = _counsellor_choices(referral)
    if form.validate_on_submit():
        try:
            if _stale(referral, form):
                raise StaleDataError
            services.assign_referral(referral, db.session.get(User, int(form.counsellor_id.data)), by=current_user)
            db.session.commit()
            flash(_("Referral assigned."), "success")
            return redirect(url_for("counselling.referral", referral_id=referral.id))
        except Refusal as refusal:
            _refuse_into(form, refusal, "counsellor_id")
        except StaleDataError:
            return _conflict(referral_id, form, policy.can_assign_referral)
    return _render_referral(referral, assign_form=form, status=422)


@bp.route("/referrals/<int:referral_id>/close", methods=["POST"])
def close(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_close_referral)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            if _stale(referral, form):
                raise StaleDataError
            if not confirmed():  # without JS: ask first (with it, hx-confirm asked)
                return confirmation_page(
                    title=_("Close this referral?"),
                    message=_("The outcome is recorded and the case moves to the closed cases. To start "
                              "counselling again, the member needs a new referral."),
                    button=_("Close the referral"),
                    back_url=url_for("counselling.referral", referral_id=referral.id))
            services.close_referral(referral, by=current_user, outcome=form.outcome.data)
            db.session.commit()
        except StaleDataError:
            return _conflict(referral_id, form, policy.can_close_referral)
        flash(_("Referral closed."), "success")
        return redirect(url_for("counselling.referral", referral_id=referral.id))
    return _render_referral(referral, close_form=form, status=422)


@bp.route("/referrals/<int:referral_id>/share", methods=["POST"])
def share(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_share_case)
    form = ShareForm()
    form.counsellor_id.choices = [SelectChoice(str(u.id)) for u in queries.share_candidates(referral, current_user)]
    if form.validate_on_submit():
        services.share_case(referral, db.session.get(User, int(form.counsellor_id.data)), by=current_user)
        db.session.commit()
        flash(_("Case shared."), "success")
        return redirect(url_for("counselling.referral", referral_id=referral.id))
    return _render_referral(referral, share_form=form, status=422)


@bp.route("/referrals/<int:referral_id>/sessions/new", methods=["GET", "POST"])
def log_session(referral_id):
    referral = get_referral_for(current_user, referral_id, check=policy.can_log_session)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            services.log_session(referral, by=current_user, held_on=form.held_on.data,
                                 duration_minutes=form.duration_minutes.data, mode=SessionMode(form.mode.data),
                                 topic=Topic(form.topic.data), confidential_notes=form.confidential_notes.data,
                                 shareable_summary=form.shareable_summary.data,
                                 next_session_on=form.next_session_on.data, risk=Risk(form.risk.data))
            db.session.commit()
            flash(_("Session logged."), "success")
            return redirect(url_for("counselling.referral", referral_id=referral.id))
        except Refusal as refusal:
            _refuse_into(form, refusal, "held_on")
    return render("counselling/session_form.html", form=form, referral=referral), 422 if form.errors else 200


@bp.route("/alerts")
def alerts():
    return render("counselling/alerts.html", alerts=queries.risk_alerts(current_user), button_form=EmptyForm())


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
def acknowledge(alert_id):
    alert = db.session.get(RiskAlert, alert_id)
    if alert is None or not (current_user.has_role(Role.SUPERVISOR) and alert.branch_id == current_user.branch_id):
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            services.acknowledge_risk(alert, by=current_user)
            db.session.commit()
            flash(_("Alert acknowledged; the acknowledgement is recorded."), "success")
        except Refusal as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("counselling.alerts"))


def _no_pairing_choices(form) -> None:
    form.pairing_id.choices = []  # chosen on the referral page; the case file spares the query


def case_file_panel(member) -> dict:
    """Context for the counselling panel of templates/members/detail.html."""
    form = None
    if policy.can_refer_member(current_user, member):
        form = Blank(ReferralForm, _no_pairing_choices)  # rendered once (crm.blankforms), not built per view
    return {"counselling": queries.panel_for(current_user, member.id), "referral_form": form}
