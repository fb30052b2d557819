from flask import Blueprint

bp = Blueprint("counselling", __name__, url_prefix="/counselling")

from crm.counselling import views  # noqa: E402,F401
