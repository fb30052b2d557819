from flask import Blueprint

bp = Blueprint("followups", __name__, url_prefix="/followups")

from crm.followups import views  # noqa: E402,F401
