from flask import Blueprint

bp = Blueprint("pairings", __name__, url_prefix="/pairings")

from crm.pairings import views  # noqa: E402,F401
