from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")

from crm.stats import views  # noqa: E402,F401
