from flask import Blueprint

bp = Blueprint("cards", __name__)

from crm.cards import views  # noqa: E402,F401


@bp.record_once
def _check_font(state):
    """At start-up: log a clear error if the CJK font is missing (PDFs would print empty boxes)."""
    from crm.cards.pdf import check_font
    check_font()
