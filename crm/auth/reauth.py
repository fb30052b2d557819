"""Fresh password entry before sensitive actions: exports, erasure, revealing a full phone or ID,
role changes and password resets.

    from crm.auth.reauth import password_confirmation_required

    @bp.route("/members/<int:member_id>/phone", methods=["POST"])
    @password_confirmation_required
    def reveal_phone(member_id): ...

Unless the signed-in user re-entered their password within ``PASSWORD_CONFIRM_MINUTES``, a GET
is redirected to ``auth.confirm_password?next=<this page>`` and comes back here afterwards. A POST
is never replayed: it is redirected to the confirmation page with ``next`` = the page the form was
on (its Referer, when that is a local path), where the user submits again. htmx requests get an
``HX-Redirect`` to the same place. ``password_recently_confirmed()`` tells services and templates.
"""

import calendar
import functools
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm import clock, throttle
from crm.auth import bp
from crm.auth.forms import ConfirmPasswordForm
from crm.auth.passwords import check_password
from crm.extensions import db
from crm.web import render

_SESSION_KEY = "_pw_confirmed_at"


def _now() -> int:
    return calendar.timegm(clock.now_utc().timetuple())


def password_recently_confirmed() -> bool:
    """Whether the signed-in user re-entered their password within PASSWORD_CONFIRM_MINUTES."""
    if not current_user.is_authenticated:
        return False
    stamp = session.get(_SESSION_KEY)
    if not isinstance(stamp, list) or len(stamp) != 2 or stamp[0] != current_user.id:
        return False
    age = _now() - int(stamp[1])
    return 0 <= age <= current_app.config["PASSWORD_CONFIRM_MINUTES"] * 60


def mark_password_confirmed() -> None:
    session[_SESSION_KEY] = [current_user.id, _now()]


def forget_password_confirmation() -> None:
    session.pop(_SESSION_KEY, None)


def safe_local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/members/3?x=1"), else None."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(c in target for c in "\\\r\n\t\0") or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _referrer_path() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def confirmation_url() -> str:
    """Where to send this request to confirm the password, coming back afterwards."""
    back = safe_local_path(request.full_path.rstrip("?")) if request.method == "GET" else _referrer_path()
    return url_for("auth.confirm_password", next=back or None)


def password_confirmation_required(view):
    """View decorator: the user must have re-entered their password within a few minutes."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if password_recently_confirmed():
            return view(*args, **kwargs)
        return ask_for_password()

    return wrapped


def ask_for_password():
    """The response sending this request to the confirmation page (for views that check access first:
    ``if not password_recently_confirmed(): return ask_for_password()``)."""
    target = confirmation_url()
    if request.headers.get("HX-Request") == "true":
        return _("Please confirm your password to continue."), 200, {"HX-Redirect": target}
    flash(_("Please confirm your password to continue."), "info")
    return redirect(target)


@bp.route("/confirm-password", methods=["GET", "POST"])
def confirm_password():
    from crm.audit.services import record

    user = current_user._get_current_object()
    form = ConfirmPasswordForm(next=request.args.get("next"))
    back = safe_local_path(form.next.data) or url_for("auth.home")
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        if not throttle.allow(f"confirm-password:user:{current_user.id}", cfg["PASSWORD_CONFIRM_ATTEMPTS"],
                              cfg["LOGIN_THROTTLE_SECONDS"]):
            form.password.errors.append(_("Too many attempts. Wait a few minutes and try again."))
            current_app.logger.warning("password confirmation throttled user=%s", current_user.id)
            status = 429
        elif check_password(current_user.password_hash, form.password.data):
            throttle.reset(f"confirm-password:user:{current_user.id}")
            mark_password_confirmed()
            record(user, "auth.password_confirmed", user)
            db.session.commit()
            return redirect(back)
        else:
            record(user, "auth.password_confirm_failed", user)
            db.session.commit()
            form.password.errors.append(_("That is not your password."))
            status = 422
    return render("auth/confirm_password.html", form=form, back=back), status
