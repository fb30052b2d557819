"""The public event page (no login, made for a phone): members sign themselves up, or cancel.

A member identifies with their mobile number and the last 4 characters of their ID number. The
answer never tells whether a number belongs to a member: an unknown number, a wrong last 4, or a
member who is not active and verified all get the same message. Attempts are rate-limited per IP
address and per phone number (crm.throttle, counted first: it commits).
"""

import logging

from flask import abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm import throttle
from crm.clock import now_utc
from crm.errors import Refusal
from crm.events import bp, services
from crm.events.forms import SelfCancelForm, SelfSignupForm
from crm.events.models import Event, EventRegistration, EventStatus
from crm.extensions import db
from crm.members import vocab
from crm.web import render

log = logging.getLogger(__name__)
RESULT_KEY = "event_self_result"


def _public_event(public_token: str) -> Event:
    """The event behind a public token; a planned event is not published yet (404 as for no event)."""
    token = (public_token or "")[:32]
    event = db.session.scalars(select(Event).where(Event.public_token == token)).first()
    if event is None or event.status is EventStatus.PLANNED:
        abort(404)
    return event


def _not_found():
    return _("We could not find your registration details. Please check them, or ask your union volunteer.")


def _render_join(event, form, status=200, refused=None, cancel_form=None):
    return render("events/join.html", event=event, form=form,
                  cancel_form=cancel_form or SelfCancelForm(formdata=None), refused=refused, vocab=vocab,
                  open_refusal=services.signup_refusal(event, now_utc()),
                  can_cancel=event.status in (EventStatus.OPEN, EventStatus.CLOSED)), status


def _throttled(form) -> str | None:
    """Count this attempt (per IP, then per phone); the message when over a limit. Commits."""
    cfg = current_app.config
    per = cfg["EVENT_SELF_RATE_SECONDS"]
    if not throttle.allow(f"events-self:ip:{request.remote_addr}", cfg["EVENT_SELF_RATE_LIMIT"], per):
        return _("Too many attempts from this network. Please try again in an hour.")
    phone = form.phone.data if isinstance(form.phone.data, str) else ""
    if phone and not throttle.allow(f"events-self:phone:{phone[:20]}", cfg["EVENT_SELF_PHONE_LIMIT"], per):
        return _("Too many attempts for this phone number. Please try again in an hour, or ask your union volunteer.")
    return None


def _done(event, registration, outcome):
    session[RESULT_KEY] = {"event": event.id, "registration": registration.id, "outcome": outcome}
    return redirect(url_for("events.join_done", public_token=event.public_token))


@bp.route("/join/<public_token>", methods=["GET", "POST"])
def join(public_token):
    event = _public_event(public_token)
    form = SelfSignupForm()
    if request.method != "POST":
        return _render_join(event, form)
    refused = _throttled(form)
    if refused:
        return _render_join(event, form, 429, refused=refused)
    closed = services.signup_refusal(event, now_utc())
    if closed:
        return _render_join(event, form, 422, refused=closed)
    if not form.validate_on_submit():
        return _render_join(event, form, 422)
    if form.website.data:  # the honeypot: a robot filled in the hidden field; write nothing, say nothing
        log.info("event sign-up honeypot filled from %s", request.remote_addr)
        return redirect(url_for("events.join", public_token=event.public_token))
    member = services.find_self(form.phone.data, form.id_last4.data)
    if member is None:
        return _render_join(event, form, 422, refused=_not_found())
    try:
        registration, created = services.self_register(event, member)
        db.session.commit()
    except Refusal as refusal:
        db.session.rollback()
        return _render_join(_public_event(public_token), form, 422, refused=refusal.message)
    return _done(event, registration, "new" if created else "already")


@bp.route("/join/<public_token>/cancel", methods=["POST"])
def join_cancel(public_token):
    event = _public_event(public_token)
    form = SelfCancelForm()
    refused = _throttled(form)
    if refused:
        return _render_join(event, SelfSignupForm(formdata=None), 429, refused=refused, cancel_form=form)
    if not form.validate_on_submit():
        return _render_join(event, SelfSignupForm(formdata=None), 422, cancel_form=form)
    if form.website.data:
        log.info("event cancel honeypot filled from %s", request.remote_addr)
        return redirect(url_for("events.join", public_token=event.public_token))
    member = services.find_self(form.phone.data, form.id_last4.data)
    try:
        if member is None:
            raise Refusal(_not_found())
        registration = services.self_cancel(event, member)
        db.session.commit()
    except Refusal as refusal:
        db.session.rollback()
        return _render_join(_public_event(public_token), SelfSignupForm(formdata=None), 422,
                            refused=refusal.message, cancel_form=form)
    return _done(event, registration, "cancelled")


@bp.route("/join/<public_token>/done")
def join_done(public_token):
    event = _public_event(public_token)
    # Shown once: on a shared phone, the next person does not see the previous one's result.
    result = session.pop(RESULT_KEY, None)
    registration = None
    if isinstance(result, dict) and result.get("event") == event.id and isinstance(result.get("registration"), int):
        registration = db.session.get(EventRegistration, result["registration"])
    if registration is None or registration.event_id != event.id:
        return redirect(url_for("events.join", public_token=event.public_token))
    return render("events/join_done.html", event=event, registration=registration, outcome=result["outcome"],
                  waiting_place=services.waiting_place(registration))
