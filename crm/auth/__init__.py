from flask import Blueprint

bp = Blueprint("auth", __name__)

from crm.auth import account, reauth, views  # noqa: E402,F401  (routes register on import)
