from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.app_context_processor
def _privacy_globals():
    """What the case file's privacy panel needs besides the member's own columns (no query)."""
    from crm.privacy.texts import Purpose, current_versions
    return {"privacy_purposes": Purpose, "privacy_current": current_versions()}


from crm.privacy import views  # noqa: E402,F401
