from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/members")

from crm.members import note_views, reveal, views  # noqa: E402,F401
