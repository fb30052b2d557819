"""Pairing pages: detail (with consent, moves and notes), the pipeline board, the inbox, proposing."""

from urllib.parse import parse_qsl

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from crm.audit.services import record
from crm.auth import policy
from crm.auth.models import Branch, Role
from crm.clock import now_utc, today
from crm.confirm import confirmation_page, confirmed
from crm.database import as_id
from crm.errors import Refusal
from crm.extensions import db
from crm.members import services as member_services
from crm.members import vocab
from crm.members.models import NoteKind
from crm.members.projections import CandidateView
from crm.members.views import get_member_for
from crm.pairings import board_html, bp, pipeline, queries, services  # noqa: F401 - board_html: board_cards global
from crm.pairings.forms import (
    BoardFilterForm,
    CandidateSearchForm,
    ConsentForm,
    MoveForm,
    PairingNoteForm,
    ProposeForm,
)
from crm.pairings.models import SHARE_FIELDS, ConsentAnswer, ConsentChannel, PairingCloseReason, Source, Stage
from crm.web import is_htmx, render


def get_pairing_for(user, pairing_id: int):
    """The pairing, if ``user`` may see it; otherwise 404."""
    pairing = queries.pairing_page(pairing_id)
    if pairing is None or not policy.can_view_pairing(user, pairing):
        abort(404)
    return pairing


def _render_detail(pairing, block=None, move_form=None, consent_form=None, note_form=None):
    note_form = note_form or PairingNoteForm()
    note_form.member_id.choices = queries.note_member_choices(current_user, pairing)
    return render("pairings/detail.html", block, pairing=pairing, sides=queries.sides(current_user, pairing),
                  moves=pipeline.allowed_moves(pairing, current_user), held_by=pipeline.member_block(pairing),
                  move_form=move_form or MoveForm(version=pairing.version),
                  consent_forms=_consent_forms(pairing, consent_form), note_form=note_form,
                  notes=queries.pairing_notes(current_user, pairing), share_fields=SHARE_FIELDS)


def _consent_forms(pairing, submitted=None) -> dict:
    """One consent form per side, by member id: the submitted one (typed values, errors) for its own side only.
    ``formdata=None``: a form built during the POST would otherwise read the other side's submission too."""
    return {m.id: submitted if submitted is not None and submitted.member_id.data == str(m.id)
            else ConsentForm(formdata=None) for m in pairing.members}


@bp.route("/<int:pairing_id>")
def detail(pairing_id):
    pairing = get_pairing_for(current_user, pairing_id)
    record(current_user, "pairing.view", pairing)
    db.session.commit()
    return _render_detail(pairing, block="pipeline")


BOARD_FILTERS = ("volunteer", "branch", "source", "min_days", "show_closed")


def _back(pairing, anchor=""):
    if request.form.get("next") == "board":  # back to the board with its filters (htmx follows to its fragment)
        query = MultiDict(parse_qsl(request.form.get("board_query", "")))
        return redirect(url_for("pairings.board", **{n: query[n] for n in BOARD_FILTERS if query.get(n)}))
    return redirect(url_for("pairings.detail", pairing_id=pairing.id) + anchor)


@bp.route("/<int:pairing_id>/move", methods=["POST"])
def move(pairing_id):
    pairing = get_pairing_for(current_user, pairing_id)
    form = MoveForm()
    try:
        if not form.validate_on_submit() or form.stage() is None:
            if (form.note.errors or form.close_reason.errors) and request.form.get("next") != "board":
                return _render_detail(pairing, block="pipeline", move_form=form), 422  # beside the field, as typed
            raise Refusal(_("Choose where to move this introduction."), field="to")
        reason = PairingCloseReason(form.close_reason.data) if form.close_reason.data else None
        if (form.stage() is Stage.CLOSED and not confirmed() and _int(form.version.data) == pairing.version
                and pipeline.refusal_for(pairing, Stage.CLOSED, current_user, close_reason=reason) is None):
            return confirmation_page(  # without JS: ask first (with it, hx-confirm asked)
                title=_("Close the introduction %(ref)s?", ref=pairing.reference),
                message=_("It leaves the pipeline as “%(reason)s”. Only a supervisor can reopen it.",
                          reason=reason.label),
                button=_("Close the introduction"), back_url=url_for("pairings.detail", pairing_id=pairing.id))
        pipeline.move(pairing, form.stage(), current_user, note=form.note.data or "", close_reason=reason,
                      expected_version=_int(form.version.data) or 0)
        db.session.commit()
        flash(_("Moved to “%(stage)s”.", stage=form.stage().label), "success")
    except (Refusal, StaleDataError) as refusal:
        db.session.rollback()
        message = getattr(refusal, "message", None) or pipeline.stale_message()
        flash(str(message), "error")
        if is_htmx() and request.form.get("next") != "board":
            return _render_detail(get_pairing_for(current_user, pairing_id), block="pipeline"), 422
    if is_htmx() and request.form.get("next") != "board":
        return _render_detail(pairing, block="pipeline")
    return _back(pairing, "#pipeline")


@bp.route("/<int:pairing_id>/consent", methods=["POST"])
def consent(pairing_id):
    pairing = get_pairing_for(current_user, pairing_id)
    form = ConsentForm()
    member = next((m for m in pairing.members if str(m.id) == form.member_id.data), None)
    if member is None or not policy.can_record_consent(current_user, pairing, member):
        abort(403)
    if form.validate_on_submit():
        try:
            services.record_consent(pairing, member, ConsentAnswer(form.answer.data), ConsentChannel(form.channel.data),
                                    {name: getattr(form, name).data for name in SHARE_FIELDS}, current_user)
            db.session.commit()
            flash(_("Answer recorded."), "success")
            return _render_detail(pairing, block="pipeline") if is_htmx() else _back(pairing, "#pipeline")
        except (Refusal, StaleDataError) as refusal:
            db.session.rollback()
            message = str(getattr(refusal, "message", pipeline.stale_message()))
            pairing = get_pairing_for(current_user, pairing_id)
            if queries.side(current_user, pairing, member).asks_answer:
                form.answer.errors = [message]
            else:  # answered meanwhile, or past the answers: the page no longer shows this form
                flash(message, "error")
    return _render_detail(pairing, block="pipeline", consent_form=form), 422


@bp.route("/<int:pairing_id>/notes", methods=["POST"])
def add_note(pairing_id):
    pairing = get_pairing_for(current_user, pairing_id)
    form = PairingNoteForm()
    form.member_id.choices = queries.note_member_choices(current_user, pairing)
    if form.validate_on_submit():
        member = next(m for m in pairing.members if str(m.id) == form.member_id.data)
        note = member_services.add_note(member, by=current_user, kind=NoteKind(form.kind.data), body=form.body.data,
                                        contact_on=today())
        note.pairing_id = pairing.id
        db.session.commit()
        if not is_htmx():
            return _back(pairing, "#pairing-notes")
        form = None
    elif not is_htmx():
        return _render_detail(pairing, note_form=form), 422
    return _render_detail(pairing, block="notes", note_form=form), (422 if form and form.errors else 200)


@bp.route("/board")
def board():
    form, f, args = _board_filters()
    user = current_user._get_current_object()  # resolved once: the policy checks run per card
    kit = _card_kit()
    columns = [_column_items(user, column, kit) for column in queries.board(user, f)]
    return render("pairings/board.html", "board", form=form, columns=columns, more_args=args, kit=kit)


@bp.route("/board/more")
def board_more():
    """The next cards of one column: the "show more" link of the board (htmx appends them in place; without
    JavaScript it opens this page, one column, with its own "show more" link)."""
    form, f, args = _board_filters()
    stage = next((s for s in queries.board_stages(f) if s.value == request.args.get("stage")), None)
    start = _int(request.args.get("start", "")) or 0
    if stage is None or start > queries.BOARD_MAX_START:
        abort(404)
    user = current_user._get_current_object()
    column = queries.board(user, f, stage=stage, start=start, limit=queries.BOARD_MORE_PAGE)[0]
    kit = _card_kit()
    return render("pairings/board_more.html", "cards", form=form, column=_column_items(user, column, kit),
                  more_args=args, kit=kit)


def _board_filters():
    """The filter form, the filters it gives (none when invalid) and the query arguments that carry them."""
    form = BoardFilterForm(request.args)
    _board_choices(form)
    f, valid = queries.BoardFilters(), form.validate()
    if valid:
        f = queries.BoardFilters(volunteer_id=_int(form.volunteer.data), branch_id=_int(form.branch.data),
                                 source=Source(form.source.data) if form.source.data else None,
                                 min_days=form.min_days.data, show_closed=form.show_closed.data)
    args = {name: request.args[name] for name in ("volunteer", "branch", "source", "min_days", "show_closed")
            if request.args.get(name)} if valid else {}
    return form, f, args


def _card_kit() -> dict:
    """What every board card repeats, made once per page: URL patterns ({} for the pairing id), labels (stages,
    answers, the form's words), the CSRF token, and "n days in stage" once per distinct n (``days``)."""
    from flask_wtf.csrf import generate_csrf

    from crm.members.models import Gender
    from crm.pairings.models import ConsentAnswer

    marker = 987654321
    return {"detail_url": url_for("pairings.detail", pairing_id=marker).replace(str(marker), "{}"),
            "move_url": url_for("pairings.move", pairing_id=marker).replace(str(marker), "{}"),
            "labels": {s: str(s.label) for s in Stage}, "answers": {a: str(a.label) for a in ConsentAnswer},
            "consent_stages": (Stage.PROPOSED, Stage.AWAITING_CONSENT), "csrf": generate_csrf(),
            "move_to": _("Move to"), "move": _("Move"), "overdue": _("Overdue"), "now": now_utc(), "days": {},
            "genders": {g: str(g.label) for g in Gender},
            "in_place": request.endpoint == "pairings.board"}  # a move redraws the board in place (htmx)


def _column_items(user, column, kit):
    """Per card: the pairing, its sides (queries.card_side), the stages it may move to from the board (closing
    needs a reason, so only on its page) and its "n days in stage"."""
    now, days, genders, items = kit["now"], kit["days"], kit["genders"], []
    for p in column.pairings:
        n = (now - p.stage_changed_at).days
        if n not in days:
            days[n] = ngettext("%(num)d day in stage", "%(num)d days in stage", n)
        items.append((p, [queries.card_side(user, p, m, genders) for m in p.members],
                      [to for to in pipeline.allowed_moves(p, user) if to is not Stage.CLOSED], days[n]))
    return column, items


def _int(value):
    return as_id(value)


def _board_choices(form):
    """Volunteer and branch filters, only for those who see more than their own caseload."""
    from crm.members.queries import assignable_volunteer_names

    form.volunteer.choices = [SelectChoice("", _("Anyone"))]
    form.branch.choices = [SelectChoice("", _("Any"))]
    if policy.can_view_team(current_user):
        form.volunteer.choices += [SelectChoice(str(uid), name)
                                   for uid, name in assignable_volunteer_names(current_user)]
    if current_user.has_role(Role.ADMIN):
        branches = db.session.scalars(select(Branch).order_by(Branch.name))
        form.branch.choices += [SelectChoice(str(b.id), b.name) for b in branches]


@bp.route("/inbox")
def inbox():
    rows = services.waiting_for(current_user)
    items = [(pairing, queries.side(current_user, pairing, consent.member),
              queries.side(current_user, pairing, pairing.other(consent.member_id))) for pairing, consent in rows]
    return render("pairings/inbox.html", items=items)


@bp.route("/propose/<int:member_id>", methods=["GET", "POST"])
def propose(member_id):
    member = get_member_for(current_user, member_id, need="edit")
    form, search = ProposeForm(), CandidateSearchForm(request.args)
    search.district.choices = vocab.area_choices(blank=_("Any"))
    found = queries.candidates(current_user, member, search.age_min.data, search.age_max.data,
                               search.district.data or "") if search.validate() else []
    if form.validate_on_submit():
        target = db.session.get(type(member), form.member_id.data)
        try:
            if target is None:
                raise Refusal(_("There is no candidate with this number."), field="member_id")
            pairing = services.propose_pairing(member, target, current_user, Source(form.source.data))
            db.session.commit()
            flash(_("Introduction proposed; both members are now asked for their answer."), "success")
            return redirect(url_for("pairings.detail", pairing_id=pairing.id))
        except Refusal as refusal:
            db.session.rollback()
            form.member_id.errors = [str(refusal.message)]
    return render("pairings/propose.html", member=member, form=form, search=search,
                  candidates=[(c.id, CandidateView.from_member(c)) for c in found]), (422 if form.errors else 200)
