"""Browser-facing security: response headers (CSP, HSTS, caching), the NUL guard, and what a form
that arrives with an expired CSRF token or session gets back.

One after_request hook sets the headers on every response; create_app calls ``init_app``.
"""

from urllib.parse import urlsplit

from flask import current_app, flash, g, has_app_context, render_template, request, session
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

# The policy every page must satisfy: no inline script or style anywhere (static/js/app.js, static/css/app.css).
CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Header the app sends with every refused form: the page's token, renewed (static/js/app.js puts it in the page).
CSRF_HEADER = "X-CSRF-Token"


def content_security_policy() -> str:
    directives = {name: list(sources) for name, sources in CSP.items()}
    cdn = current_app.config.get("HTMX_CDN_URL")
    if cdn:
        # The one file, not the whole CDN origin (base.html loads it with an SRI integrity hash).
        parts = urlsplit(cdn)
        directives["script-src"].append(f"{parts.scheme}://{parts.netloc}{parts.path}")
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _set_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:  # behind a proxy only when TRUSTED_PROXIES says it sets X-Forwarded-Proto
        seconds = current_app.config["HSTS_SECONDS"]
        headers["Strict-Transport-Security"] = f"max-age={seconds}; includeSubDomains"
    if request.endpoint != "static" and (session.get("_user_id") or response.mimetype != "text/html"):
        # Signed-in pages and fragments, PDFs, exports and the calendar feed carry personal data: never stored
        # by the browser or a proxy (the back button asks the server, which checks the session again).
        # The session, not current_user: after the view's commit that would reload the user from the database.
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    if response.mimetype == "text/html":
        # A URL answers with a page or, for htmx, a fragment of it: caches must tell them apart.
        response.vary.add("HX-Request")
    return response


# --- NUL bytes ---------------------------------------------------------------------------------
# PostgreSQL text cannot hold a NUL character (the driver raises, a 500). Every form refuses it beside the
# field that holds it, with the typed text kept; a URL path with one is refused outright.

def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    sources = [request.args] if request.method in ("GET", "HEAD") else [request.args, request.form]
    return any("\x00" in key or "\x00" in value
               for values in sources for key, value in values.items(multi=True))


def _refuse_nul_in_path():
    if "\x00" in request.path:
        raise BadRequest(description=_("The address contains an invisible control character. Check the link."))
    return None


def refuse_nul(form, field):
    """Added to every field of every FlaskForm (see ``_forms_refuse_nul``)."""
    from wtforms.validators import ValidationError
    raw = field.raw_data or []
    if any(isinstance(value, str) and "\x00" in value for value in raw):
        # The message of crm.validators.no_control_chars, which many text fields also have.
        message = _("Remove the invisible control characters from this text.")
        if message not in [str(e) for e in field.errors]:
            raise ValidationError(message)


def _refuse_huge_integers(form):
    """An integer no column can hold is refused beside its field before the field's own validators see it:
    WTForms' NumberRange raises OverflowError (a 500) on one beyond a float, and PostgreSQL on one beyond
    its INTEGER range (an id looked up, a number stored)."""
    from wtforms.fields import IntegerField

    from crm.database import MAX_ID
    for field in form:
        if isinstance(field, IntegerField) and isinstance(field.data, int) and not -MAX_ID <= field.data <= MAX_ID:
            field.data = None
            message = _("This number is too large.")
            if message not in field.process_errors:
                field.process_errors.append(message)


def _forms_refuse_nul():
    """Every FlaskForm, including ones added later, validates each field against NUL after its own
    validators: one central rule instead of a validator someone may forget on a new field."""
    from flask_wtf import FlaskForm
    if getattr(FlaskForm.validate, "refuses_nul", False):
        return
    original = FlaskForm.validate

    def validate(self, extra_validators=None):
        _refuse_huge_integers(self)
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(refuse_nul)
        valid = original(self, extra_validators=extra)
        for field in self:  # lazy messages (_l in validators) as plain text: views join and flash them
            if isinstance(field.errors, list):
                field.errors = [str(e) if not isinstance(e, (str, dict, list)) else e for e in field.errors]
        return valid

    validate.refuses_nul = True
    FlaskForm.validate = validate


# --- Expired session or CSRF token ---------------------------------------------------------------

class WriteRefused(RuntimeError):
    """A view replayed after a CSRF failure tried to write: the replay is abandoned."""


def _refuse_writes_during_replay(session, *args):
    if has_app_context() and g.get("csrf_replay"):
        changed = [*session.new, *session.dirty, *session.deleted]
        raise WriteRefused(f"a form without a valid CSRF token may not write: {changed!r}")


def _refuse_statement_during_replay(state):
    if (state.is_insert or state.is_update or state.is_delete) and has_app_context() and g.get("csrf_replay"):
        raise WriteRefused("a form without a valid CSRF token may not write")


def _is_fragment_request() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def session_expired():
    """What an htmx form gets when the session has expired: a message (shown in the flash area by
    static/js/app.js, with a link to sign in in a new tab), not the login page swapped into a fragment,
    and not a redirect that would throw away what the user typed."""
    from flask_wtf.csrf import generate_csrf
    message = _("Your session has expired. Sign in again (a new tab opens), then come back and send this "
                "form again: what you typed is still here.")
    return message, 401, {CSRF_HEADER: generate_csrf()}


def csrf_error(error):
    """An expired or missing CSRF token (the session ended, or the page is very old).

    htmx fragments get the message and a new token in a header (app.js puts it into the page, so sending
    again works). A whole-page form is shown again with what was typed and a message: the view runs again
    with the form's CSRF check failing, and any database write during that replay abandons it.
    """
    from flask_wtf.csrf import generate_csrf
    message = _("Your session has expired or the form is out of date. Check what you entered and send it again.")
    token = generate_csrf()
    if _is_fragment_request():
        return message, 400, {CSRF_HEADER: token}
    if request.method == "POST" and request.endpoint in current_app.view_functions and not _has_nul():
        response = _replay_without_writes(message)
        if response is not None:
            response.headers[CSRF_HEADER] = token
            return response
    return (render_template("errors/error.html", status=400, message=message, description=None), 400,
            {CSRF_HEADER: token})


def _other_before_request_checks():
    """The app's and blueprints' before_request functions except Flask-WTF's CSRF check, in Flask's order."""
    for scope in (None, *reversed(request.blueprints)):
        for func in current_app.before_request_funcs.get(scope, ()):
            if getattr(func, "__name__", "") == "csrf_protect":
                continue
            rv = func()
            if rv is not None:
                return rv
    return None


def _replay_without_writes(message):
    from crm.extensions import db
    flash(message, "error")
    g.csrf_valid = False  # Flask-WTF's mark: the forms check the token themselves, and refuse it
    g.csrf_replay = True
    try:
        # The CSRF check failed before the app's other checks ran (sign-in, roles, session timeouts): run
        # them first. One that answers (the session has expired: sign in) answers instead of the view.
        refusal = _other_before_request_checks()
        if refusal is not None:
            session.pop("_flashes", None)  # the refusal says what happened
            return current_app.make_response(refusal)
        rv = current_app.view_functions[request.endpoint](**(request.view_args or {}))
        response = current_app.make_response(rv)
    except Exception:  # WriteRefused, an HTTPException, anything: the plain error page instead
        current_app.logger.info("CSRF replay of %s abandoned", request.endpoint, exc_info=True)
        db.session.rollback()
        session.pop("_flashes", None)
        return None
    finally:
        g.csrf_replay = False
    db.session.rollback()  # nothing was written; drop whatever the view loaded
    if response.status_code < 300:
        # Refused, not done. 422 because htmx swaps it for a boosted form (base.html's responseHandling).
        response.status_code = 422
    return response


def init_app(app):
    from flask_wtf.csrf import CSRFError
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.before_request(_refuse_nul_in_path)
    _forms_refuse_nul()
    app.after_request(_set_headers)
    app.register_error_handler(CSRFError, csrf_error)
    if not event.contains(Session, "before_flush", _refuse_writes_during_replay):
        event.listen(Session, "before_flush", _refuse_writes_during_replay)
        event.listen(Session, "do_orm_execute", _refuse_statement_during_replay)
