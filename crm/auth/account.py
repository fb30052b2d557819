"""The signed-in user's own account: changing their password."""

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from crm import throttle
from crm.admin import services
from crm.admin.forms import ChangePasswordForm
from crm.auth import bp, sessions
from crm.errors import Refusal
from crm.extensions import db
from crm.web import render


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        cfg = current_app.config
        if not throttle.allow(f"confirm-password:user:{user.id}", cfg["PASSWORD_CONFIRM_ATTEMPTS"],
                              cfg["LOGIN_THROTTLE_SECONDS"]):
            form.current.errors.append(_("Too many attempts. Wait a few minutes and try again."))
            return render("auth/change_password.html", form=form), 429
        try:
            services.change_own_password(user, form.current.data, form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            getattr(form, refusal.field).errors.append(str(refusal.message))
            status = 422
        else:
            db.session.flush()  # ends every session of the user, this one too...
            sessions.issue(user, user_agent=request.user_agent.string)  # ...and this browser gets a new one
            db.session.commit()
            login_user(user)
            flash(_("Your password has been changed; you were signed out everywhere else."), "success")
            return redirect(url_for("auth.home"))
    else:
        status = 422 if form.errors else 200
    return render("auth/change_password.html", form=form), status
