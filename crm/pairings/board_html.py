"""The board's cards written in one pass: templates/pairings/_board.html's ``card`` macro, character for character.

A volunteer's board shows up to 20 cards per column; a macro call per card with ~20 autoescaped outputs, a loop
over the sides and one over the moves was the biggest part of the page after its SQL (issue 10). The macro stays
for the "show more" page and as the reference: tests/perf_pages/test_request_floor.py renders both and compares.
Every text goes through ``escape`` as Jinja's autoescape did.
"""

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

from crm.pairings import bp


def _side(s, consent_stage: bool, k) -> str:
    if not consent_stage:
        return f"<li>{escape(s.label)}</li>"
    answer = s.consent.answer
    badge = f'<span class="badge overdue">{escape(k["overdue"])}</span>' if s.overdue else ""
    return (f'<li>{escape(s.label)} <span class="status consent-{escape(answer.value)}">'
            f'{escape(k["answers"][answer])}</span>\n{badge}</li>')


@bp.app_template_global("board_cards")
def board_cards(items, stage, k, more_args=None) -> Markup:
    """Each card of ``items`` (pairings.views._column_items) followed by the board column's line break."""
    consent_stage = stage in k["consent_stages"]
    labels, detail_url, move_url = k["labels"], k["detail_url"], k["move_url"]
    hidden_query = (f'<input type="hidden" name="board_query" value="{escape(do_urlencode(more_args))}">'
                    if more_args else "")
    form_tail = (f'          <input type="hidden" name="csrf_token" value="{escape(k["csrf"])}">\n')
    move_to, move = escape(k["move_to"]), escape(k["move"])
    out = []
    for pairing, sides, forward, days in items:
        pid = pairing.id
        out.append(
            f'\n      <li class="card" id="card-{pid}">\n'
            f'        <a href="{escape(detail_url.format(pid))}">{escape(pairing.reference)}</a>\n'
            f'        <span class="muted">{escape(days)}</span>\n'
            f'        <ul class="sides">\n        {"".join(_side(s, consent_stage, k) for s in sides)}\n'
            "        </ul>\n        ")
        if forward:
            url = escape(move_url.format(pid))
            in_place = (f' hx-post="{url}" hx-target="#board" hx-swap="outerHTML"' if k["in_place"] else "")
            options = "".join(f'<option value="{escape(to.value)}">{escape(labels[to])}</option>' for to in forward)
            out.append(
                "\n        \n"
                f'        <form method="post" action="{url}" class="inline card-move"{in_place}>\n'
                f"{form_tail}"
                f'          <input type="hidden" name="version" value="{escape(pairing.version)}">'
                f'<input type="hidden" name="next" value="board">{hidden_query}\n'
                f'          <label class="sr-only" for="to-{pid}">{move_to}</label>\n'
                f'          <select name="to" id="to-{pid}">{options}</select>\n'
                f'          <button type="submit" class="small">{move}</button>\n'
                "        </form>\n        ")
        out.append("\n      </li>\n    ")
    return Markup("".join(out))
