"""Printing introduction cards: one pairing's two cards, or a batch of a selection of pairings."""

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from crm.auth import policy
from crm.cards import bp, services
from crm.cards.forms import MAX_BATCH, BatchForm
from crm.cards.pdf import render_cards
from crm.extensions import db
from crm.web import punctuation, render


def _pdf(data: bytes, filename: str, disposition: str = "inline") -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


@bp.route("/pairings/<int:pairing_id>/cards.pdf")
def pairing_pdf(pairing_id):
    found = services.load_pairings([pairing_id])
    if not found or not policy.can_view_pairing(current_user, found[0]):
        abort(404)
    pairing = found[0]
    refusal = services.print_refusal(current_user, pairing)
    if refusal:
        abort(403, description=str(refusal))
    data = render_cards(services.cards_for(pairing, current_user))
    filename = f"{pairing.reference}.pdf"  # before the commit expires the pairing (a reload of 3 statements)
    services.record_print(current_user, pairing)
    db.session.commit()
    return _pdf(data, filename)


@bp.route("/cards")
def select():
    return _select_page(BatchForm())


def _select_page(form, **ctx):
    return render("cards/select.html", pairings=services.printable_pairings(current_user), form=form,
                  max_batch=MAX_BATCH, side_names=lambda p: services.side_names(current_user, p), **ctx)


@bp.route("/cards/batch", methods=["POST"])
def batch():
    form = BatchForm()
    ids = form.pairing_ids(request.form.getlist("pairing_id"))
    error = None
    if not form.validate_on_submit():
        error = _("Your session has expired or the form is out of date. Reload the page and try again.")
    elif not ids:
        error = _("Choose at least one introduction to print.")
    elif len(ids) > MAX_BATCH:
        error = _("Print at most %(n)s introductions at a time.", n=MAX_BATCH)
    if error is None:
        printable, skipped = services.split_printable(current_user, ids)
        if printable:
            data = render_cards([c for p in printable for c in services.cards_for(p, current_user)])
            services.record_prints(current_user, printable)
            db.session.commit()
            if skipped:
                flash(ngettext("%(num)d introduction was not printed: %(list)s",
                               "%(num)d introductions were not printed: %(list)s",
                               len(skipped), list=punctuation()["separator"].join(skipped)), "warning")
            response = _pdf(data, "introduction-cards.pdf", "attachment")  # a file to keep, not a page
            response.headers["X-Cards-Skipped"] = str(len(skipped))
            return response
        error = _("None of the chosen introductions can be printed: %(list)s",
                  list=punctuation()["separator"].join(skipped))
    return _select_page(form, error=error, checked=set(ids)), 422
