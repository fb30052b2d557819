from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/members")

from crm.members import reveal, views  # noqa: E402,F401
