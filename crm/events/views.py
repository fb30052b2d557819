"""Mixer event pages: list, create/edit, sign-ups, the door (check-in), choices, report, printing."""

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from crm.audit.services import record
from crm.auth import policy
from crm.auth.models import Branch
from crm.clock import now_utc
from crm.confirm import confirmation_page, confirmed
from crm.conflicts import conflict_rows
from crm.database import as_id
from crm.errors import Refusal
from crm.events import bp, services
from crm.events.forms import (
    CancelForm,
    CheckInForm,
    ChoicesForm,
    EventForm,
    RegisterForm,
    StatusForm,
    parse_badges,
)
from crm.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from crm.extensions import db
from crm.members.models import Member, MemberStatus
from crm.web import is_htmx, render


def get_event(event_id) -> Event:
    event = db.session.scalars(select(Event).options(selectinload(Event.hosts), joinedload(Event.branch))
                               .where(Event.id == event_id)).first()
    if event is None:
        abort(404)
    return event


def get_run_event(event_id) -> Event:
    event = get_event(event_id)
    if not policy.can_run_event(current_user, event):
        abort(404)
    return event


def _registration(event, registration_id) -> EventRegistration:
    reg = db.session.scalars(select(EventRegistration).options(joinedload(EventRegistration.member))
                             .where(EventRegistration.id == as_id(registration_id) if as_id(registration_id)
                                    else EventRegistration.id == -1,
                                    EventRegistration.event_id == event.id)).first()
    if reg is None:
        abort(404)
    return reg


@bp.route("/")
def index():
    events = db.session.scalars(select(Event).options(joinedload(Event.branch))
                                .order_by(Event.starts_at.desc()).limit(200)).all()
    return render("events/index.html", events=events)


def _host_choices(form, organiser_id):
    """Every branch but the organiser's (which always hosts) may be chosen as a co-host."""
    branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
    form.hosts.choices = [SelectChoice(str(b.id), b.name) for b in branches if b.id != organiser_id]
    return {b.id: b for b in branches}


def _chosen_hosts(form, branches):
    return [branches[as_id(i)] for i in form.hosts.data or [] if as_id(i) in branches]


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EventForm()
    branches = _host_choices(form, current_user.branch_id)
    if form.validate_on_submit():
        try:
            event = services.create_event(current_user, form.data_for_service(), _chosen_hosts(form, branches))
            db.session.commit()
            flash(_("Event created. Open it for sign-up when ready."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
        except Refusal as refusal:
            db.session.rollback()
            getattr(form, refusal.field or "title").errors.append(str(refusal.message))
    status = 422 if request.method == "POST" else 200
    return render("events/form.html", form=form, event=None), status


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id):
    event = get_event(event_id)
    if not policy.can_manage_event(current_user, event):
        abort(404)
    refusal = services.edit_refusal(event)
    if refusal and request.method != "POST":  # a POST is refused by the service, next to the field
        flash(str(refusal), "warning")
        return redirect(url_for("events.detail", event_id=event.id))
    form = EventForm() if request.method == "POST" else EventForm.for_event(event)
    branches = _host_choices(form, event.branch_id)
    if form.validate_on_submit():
        try:
            if form.version.data != str(event.version):
                raise StaleDataError
            services.update_event(event, current_user, form.data_for_service(), _chosen_hosts(form, branches))
            db.session.commit()
            flash(_("Event saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
        except Refusal as refusal:
            db.session.rollback()
            event = get_event(event_id)
            getattr(form, refusal.field or "title").errors.append(str(refusal.message))
        except StaleDataError:  # saved by someone else since the form was opened: show both, write nothing
            db.session.rollback()
            event = get_event(event_id)
            rows = conflict_rows(form, EventForm.values_of(event))
            form.version.data = str(event.version)  # saving again re-applies this version over the saved one
            return render("events/form.html", form=form, event=event, conflict=rows), 409
    status = 422 if request.method == "POST" else 200
    return render("events/form.html", form=form, event=event), status


def _detail(event, status=200, error=None, q=None):
    q = (request.args.get("q", "") if q is None else q).strip()[:40]
    mine = db.session.scalars(
        select(EventRegistration).join(EventRegistration.member).options(joinedload(EventRegistration.member))
        .where(EventRegistration.event_id == event.id, policy.visible_members_clause(current_user))
        .order_by(EventRegistration.badge_number)).all()
    candidates = []
    if q and event.status is EventStatus.OPEN:
        from crm.members.queries import MemberFilters, member_page
        rows, _total = member_page(current_user, MemberFilters(q=q, status=MemberStatus.ACTIVE.value), 1, 20)
        taken = {r.member_id for r in mine if r.status is not RegistrationStatus.CANCELLED}
        candidates = [(row.Member, services.eligibility_refusal(event, row.Member))
                      for row in rows if row.Member.id not in taken]
    return render("events/detail.html", event=event, mine=mine, candidates=candidates, q=q, error=error,
                  held=services.held_places(event.id), limit=services.gender_limit(event.capacity,
                                                                                 event.max_gender_percent),
                  waiting=db.session.scalar(select(db.func.count()).where(
                      EventRegistration.event_id == event.id,
                      EventRegistration.status == RegistrationStatus.WAITLISTED)),
                  status_form=StatusForm(status=event.status.value), register_form=RegisterForm(),
                  cancel_form=CancelForm(), moves=services.STATUS_MOVES[event.status],
                  can_manage=policy.can_manage_event(current_user, event),
                  can_edit=policy.can_manage_event(current_user, event) and services.edit_refusal(event) is None,
                  can_run=policy.can_run_event(current_user, event)), status


@bp.route("/<int:event_id>")
def detail(event_id):
    return _detail(get_event(event_id))


@bp.route("/<int:event_id>/status", methods=["POST"])
def set_status(event_id):
    event = get_event(event_id)
    if not policy.can_manage_event(current_user, event):
        abort(404)
    form = StatusForm()
    try:
        if not form.validate_on_submit():
            raise Refusal(_("Choose a status."), field="status")
        if form.status.data == EventStatus.CANCELLED.value and not confirmed():  # without JS: ask first
            return confirmation_page(
                title=_("Cancel the event “%(title)s”?", title=event.title),
                message=_("Sign-ups end and the event cannot be reopened. Tell the members who signed up."),
                button=_("Cancel the event"), back_url=url_for("events.detail", event_id=event.id))
        services.set_status(event, EventStatus(form.status.data), current_user)
        db.session.commit()
        flash(_("The event is now “%(status)s”.", status=EventStatus(form.status.data).label), "success")
        return redirect(url_for("events.detail", event_id=event.id))
    except Refusal as refusal:
        db.session.rollback()
        return _detail(get_event(event_id), 422, error=refusal.message)


@bp.route("/<int:event_id>/register", methods=["POST"])
def register(event_id):
    event = get_event(event_id)
    form = RegisterForm()
    member_id = as_id(form.member_id.data)
    member = db.session.get(Member, member_id) if member_id else None
    if member is None or not policy.can_view_member(current_user, member):
        return _detail(event, 422, error=_("Choose one of your members."), q=request.form.get("q", ""))
    try:
        if not form.validate_on_submit():
            raise Refusal(_("Your session has expired or the form is out of date. Reload the page and try again."))
        registration = services.register(event, member, current_user)
        db.session.commit()
        if registration.status is RegistrationStatus.REGISTERED:
            flash(_("%(name)s is signed up, number %(n)s.", name=member.name, n=registration.badge_number),
                  "success")
        else:
            flash(_("The event is full for now: %(name)s is on the waiting list.", name=member.name), "warning")
        return redirect(url_for("events.detail", event_id=event.id))
    except Refusal as refusal:
        db.session.rollback()
        return _detail(get_event(event_id), 422, error=refusal.message, q=request.form.get("q", ""))


@bp.route("/<int:event_id>/cancel", methods=["POST"])
def cancel_registration(event_id):
    event = get_event(event_id)
    form = CancelForm()
    reg = _registration(event, form.registration_id.data)
    if not policy.can_view_member(current_user, reg.member):
        abort(404)
    try:
        if not form.validate_on_submit():
            raise Refusal(_("Your session has expired or the form is out of date. Reload the page and try again."))
        if not confirmed():  # without JS: ask first (with it, hx-confirm asked)
            return confirmation_page(
                title=_("Remove %(name)s from “%(title)s”?", name=reg.member.name, title=event.title),
                message=_("The place goes to the next member on the waiting list, if there is one."),
                button=_("Cancel sign-up"), back_url=url_for("events.detail", event_id=event.id))
        services.cancel_registration(reg, current_user)
        db.session.commit()
        flash(_("Sign-up cancelled."), "success")
        return redirect(url_for("events.detail", event_id=event.id))
    except Refusal as refusal:
        db.session.rollback()
        return _detail(get_event(event_id), 422, error=refusal.message)


# --- Door --------------------------------------------------------------------------------------

def _door(event, q, status=200, message=None, error=None):
    results = services.door_search(event, q) if q else []
    counts = services.report(event)
    return render("events/door.html", "results" if is_htmx() else None, event=event, q=q, results=results,
                  form=CheckInForm(), message=message, error=error, counts=counts,
                  closed=services.check_in_refusal(event, now_utc())), status


@bp.route("/<int:event_id>/door")
def door(event_id):
    event = get_run_event(event_id)
    return _door(event, request.args.get("q", "").strip()[:40])


@bp.route("/<int:event_id>/door/check-in", methods=["POST"])
def check_in(event_id):
    event = get_run_event(event_id)
    form = CheckInForm()
    q = (form.q.data or "").strip()[:40]
    reg = _registration(event, form.registration_id.data)
    try:
        if not form.validate_on_submit():
            raise Refusal(_("Your session has expired or the form is out of date. Reload the page and try again."))
        changed = services.check_in(reg, current_user)
        db.session.commit()
        message = (_("No. %(n)s %(name)s checked in.", n=reg.badge_number, name=reg.member.name) if changed
                   else _("No. %(n)s %(name)s was already checked in.", n=reg.badge_number, name=reg.member.name))
    except Refusal as refusal:
        db.session.rollback()
        return _door(get_run_event(event_id), q, 422, error=refusal.message)
    if is_htmx():
        return _door(event, q, message=message)
    flash(message, "success")
    return redirect(url_for("events.door", event_id=event.id, q=q))


# --- Choices -----------------------------------------------------------------------------------

@bp.route("/<int:event_id>/choices/<int:registration_id>", methods=["GET", "POST"])
def choices(event_id, registration_id):
    event = get_event(event_id)
    reg = _registration(event, registration_id)
    if not policy.can_enter_choices(current_user, event, reg.member):
        abort(404)
    form = ChoicesForm() if request.method == "POST" else ChoicesForm(
        badges=_saved_badges(event, reg), version=str(reg.choices_version))
    if form.validate_on_submit():
        try:
            made = services.set_choices(event, reg, parse_badges(form.badges.data), current_user,
                                        current_app.config["EVENT_MAX_CHOICES"], version=form.version.data or "")
            db.session.commit()
            flash(_("Choices saved.") + (" " + _("Mutual choices became introductions: %(refs)s",
                                                  refs=", ".join(p.reference for p in made)) if made else ""),
                  "success")
            return redirect(url_for("events.detail", event_id=event.id))
        except Refusal as refusal:
            db.session.rollback()
            event = get_event(event_id)
            reg = _registration(event, registration_id)
            form.badges.errors.append(str(refusal.message))
        except StaleDataError:  # saved by someone else since the form was opened: show both, write nothing
            db.session.rollback()
            event = get_event(event_id)
            reg = _registration(event, registration_id)
            rows = conflict_rows(form, {"badges": _saved_badges(event, reg)})
            form.version.data = str(reg.choices_version)  # saving again re-applies this version over the saved one
            return render("events/choices.html", event=event, reg=reg, form=form, conflict=rows,
                          chosen=_chosen_view(event, services.choices_of(event, reg.member))), 409
    return render("events/choices.html", event=event, reg=reg, form=form,
                  chosen=_chosen_view(event, services.choices_of(event, reg.member))), \
        (422 if request.method == "POST" else 200)


def _saved_badges(event, reg) -> str:
    """The attendee's stored choices as the form shows them (also the "saved version" of a conflict)."""
    return " ".join(str(n) for n in _badges_of(event, [c.chosen_id for c in services.choices_of(event, reg.member)]))


def _badges_of(event, member_ids):
    if not member_ids:
        return []
    return list(db.session.scalars(select(EventRegistration.badge_number).where(
        EventRegistration.event_id == event.id, EventRegistration.member_id.in_(member_ids))
        .order_by(EventRegistration.badge_number)))


def _chosen_view(event, chosen):
    """Number and given name of each chosen attendee (the badge's data), and whether it is mutual."""
    numbers = dict(db.session.execute(select(EventRegistration.member_id, EventRegistration.badge_number).where(
        EventRegistration.event_id == event.id,
        EventRegistration.member_id.in_([c.chosen_id for c in chosen] or [-1]))).all())
    return [(numbers.get(c.chosen_id), given_name(c.chosen.name), c.pairing_id is not None) for c in chosen]


def given_name(name: str) -> str:
    """The name without the surname: 张伟 -> 伟, 欧阳娜娜 -> 娜娜 (two-character compound surnames)."""
    from crm.events.badges import given_name as _given
    return _given(name)


# --- Report and printing -------------------------------------------------------------------------

@bp.route("/<int:event_id>/report")
def report(event_id):
    event = get_run_event(event_id)
    return render("events/report.html", event=event, report=services.report(event))


@bp.route("/<int:event_id>/cards", methods=["POST"])
def cards(event_id):
    from crm.cards import services as card_services
    from crm.cards.forms import BatchForm
    from crm.cards.pdf import render_cards

    event = get_run_event(event_id)
    form = BatchForm()
    ids = services.mutual_pairing_ids(event)
    printable, skipped = card_services.split_printable(current_user, ids) if form.validate_on_submit() else ([], [])
    if not printable:
        flash(_("None of this event's introductions can be printed by you."), "warning")
        return redirect(url_for("events.report", event_id=event.id))
    data = render_cards([c for p in printable for c in card_services.cards_for(p, current_user)])
    card_services.record_prints(current_user, printable)
    record(current_user, "event.print_cards", event, pairings=[p.id for p in printable], skipped=len(skipped))
    db.session.commit()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="event-{event.id}-cards.pdf"',
        "X-Cards-Skipped": str(len(skipped))})


@bp.route("/<int:event_id>/badges.pdf")
def badges(event_id):
    from crm.events.badges import render_badges

    event = get_run_event(event_id)
    regs = db.session.scalars(select(EventRegistration).options(joinedload(EventRegistration.member))
                              .where(EventRegistration.event_id == event.id,
                                     EventRegistration.status.in_([RegistrationStatus.REGISTERED,
                                                                   RegistrationStatus.ATTENDED]))
                              .order_by(EventRegistration.badge_number)).all()
    data = render_badges(event, regs)
    record(current_user, "event.print_badges", event, count=len(regs))
    db.session.commit()
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="event-{event.id}-badges.pdf"'})
