from flask import Blueprint

bp = Blueprint("cards", __name__)

from crm.cards import views  # noqa: E402,F401
