from flask import Blueprint

bp = Blueprint("pairings", __name__, url_prefix="/pairings")

from crm.pairings import consent_stage, views  # noqa: E402,F401  (consent_stage: the session event that keeps it)
