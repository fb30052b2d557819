from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from crm import throttle
from crm.auth import bp, sessions
from crm.auth.forms import LanguageForm, LoginForm
from crm.auth.models import Role, User
from crm.auth.passwords import check_password
from crm.clock import now_utc
from crm.extensions import db, login_manager
from crm.web import is_htmx, render


@login_manager.user_loader
def load_user(cookie_id: str):
    return sessions.load(cookie_id)  # a server-side session row: revocable, idle and absolute timeouts


@login_manager.unauthorized_handler
def unauthorized():
    login_url = url_for("auth.login", next=_current_path() if request.method == "GET" else None)
    if is_htmx() or request.headers.get("HX-Request"):
        if request.method != "GET":
            # A form being sent: the login page would replace it and what was typed. Say so instead.
            from crm.security import session_expired
            return session_expired()
        return _("Please sign in again."), 401, {"HX-Redirect": login_url}
    flash(_("Please sign in to continue."), "info")
    return redirect(login_url)


def _current_path() -> str:
    """The path and query of this request, without the bare "?" that ``full_path`` adds."""
    return request.full_path.rstrip("?")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        # Same answer, status and (one argon2 verification) time whether or not the username exists.
        if not _login_allowed(username):
            form.password.errors.append(_("Too many sign-in attempts. Wait a few minutes and try again."))
            current_app.logger.warning("login throttled")
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.username == username))
            if check_password(user.password_hash if user else None, form.password.data) and user.is_active:
                throttle.reset(_account_key(username))
                user.last_login_at = now_utc()
                _fresh_session()
                sessions.issue(user, remember=form.remember.data, user_agent=request.user_agent.string)
                db.session.commit()
                login_user(user, remember=form.remember.data, duration=sessions.remember_duration())
                current_app.logger.info("login user=%s", user.id)
                return redirect(_safe_next(request.args.get("next")))
            current_app.logger.info("login refused")
            form.password.errors.append(_("Wrong username or password."))
    return render("auth/login.html", form=form), status


def _account_key(username: str) -> str:
    return f"login:user:{username.casefold()}"


def _login_allowed(username: str) -> bool:
    """One attempt more for this account and this client address (both counted, whatever the answer)."""
    cfg = current_app.config
    per = cfg["LOGIN_THROTTLE_SECONDS"]
    by_ip = throttle.allow(f"login:ip:{request.remote_addr}", cfg["LOGIN_ATTEMPTS_PER_IP"], per)
    by_account = throttle.allow(_account_key(username), cfg["LOGIN_ATTEMPTS_PER_ACCOUNT"], per)
    return by_ip and by_account


def _fresh_session():
    """A new session cookie at sign-in (no fixation); only the chosen language carries over."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/logout", methods=["POST"])
def logout():
    current_user.end_all_sessions()  # a copied cookie stops working too
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in current_app.config["LANGUAGES"]:
        session["lang"] = form.lang.data
    return redirect(_safe_next(form.next.data))


@bp.route("/")
def home():
    if current_user.roles & (Role.VOLUNTEER | Role.SUPERVISOR | Role.ADMIN):
        return redirect(url_for("members.index"))
    if current_user.has_role(Role.COUNSELLOR):
        return redirect(url_for("counselling.home"))
    return render("auth/home.html")
