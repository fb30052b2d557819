from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")

from crm.stats import facts, views  # noqa: E402,F401  (facts: the session event that keeps them)
