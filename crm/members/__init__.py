from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/members")

from crm.members import attention, note_views, reveal, views  # noqa: E402,F401  (attention: its session event)
