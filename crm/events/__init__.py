from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")

from crm.events import public_views, views  # noqa: E402,F401
