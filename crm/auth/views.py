from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from crm.auth import bp
from crm.auth.forms import LanguageForm, LoginForm
from crm.auth.models import Role, User
from crm.auth.passwords import check_password
from crm.clock import now_utc
from crm.extensions import db, login_manager
from crm.web import is_htmx, render


@login_manager.user_loader
def load_user(cookie_id: str):
    user_id, _sep, token = cookie_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and token == user.session_token else None


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
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if check_password(user.password_hash if user else None, form.password.data) and user.is_active:
            user.last_login_at = now_utc()
            db.session.commit()
            login_user(user, remember=form.remember.data)
            current_app.logger.info("login %r", user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong username or password."))
    return render("auth/login.html", form=form)


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
