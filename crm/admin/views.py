from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from crm.admin import bp, services
from crm.admin.forms import NewUserForm, ResetPasswordForm, UserForm
from crm.auth.forms import EmptyForm
from crm.auth.models import Branch, Role, User
from crm.auth.reauth import password_confirmation_required
from crm.confirm import confirmation_page, confirmed
from crm.conflicts import conflict_rows
from crm.database import as_id
from crm.errors import Refusal
from crm.extensions import db
from crm.web import render


@bp.route("/users")
def users():
    return render("admin/users.html", form=EmptyForm(), users=list(db.session.scalars(
        select(User).order_by(User.branch_id, User.username))))


def _choices(form):
    form.branch.choices = [SelectChoice(str(b.id), b.name)
                           for b in db.session.scalars(select(Branch).order_by(Branch.name))]
    form.roles.choices = [SelectChoice(r.name, r.label) for r in Role.singles()]
    return form


def _user_or_404(user_id) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _saved(user) -> dict:
    """The stored user as edit-form values (also the "saved version" of a conflict)."""
    return {"display_name": user.display_name, "branch": str(user.branch_id),
            "roles": [r.name for r in Role.singles() if user.has_role(r)], "version": str(user.version)}


def _refused(form, refusal: Refusal):
    field = getattr(form, refusal.field, None) if refusal.field else None
    if field is not None:
        field.errors = [*field.errors, str(refusal.message)]
    else:
        flash(str(refusal.message), "error")


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = _choices(NewUserForm())
    if form.validate_on_submit():
        try:
            user = services.create_user(current_user, username=form.username.data, display_name=form.display_name.data,
                                        branch_id=as_id(form.branch.data), roles=services.roles_from(form.roles.data),
                                        password=form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            _refused(form, refusal)
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=None), 422 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@password_confirmation_required  # role changes need a fresh password entry
def user_edit(user_id):
    user = _user_or_404(user_id)
    form = _choices(UserForm())
    if request.method == "GET":
        for name, value in _saved(user).items():
            form[name].data = value
    elif form.validate_on_submit():
        try:
            services.update_user(current_user, user, display_name=form.display_name.data,
                                 branch_id=as_id(form.branch.data), roles=services.roles_from(form.roles.data),
                                 expected_version=as_id(form.version.data) or 0)
        except Refusal as refusal:
            db.session.rollback()
            _refused(form, refusal)
        except StaleDataError:  # another administrator saved this user meanwhile: both versions, nothing written
            db.session.rollback()
            user = _user_or_404(user_id)
            rows = conflict_rows(form, _saved(user))
            form.version.data = str(user.version)  # saving again re-applies this version over the saved one
            return render("admin/user_form.html", form=form, user=user, conflict=rows), 409
        else:
            db.session.commit()
            flash(_("Changes saved; %(name)s must sign in again.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=user), 422 if form.errors else 200


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id):
    user = _user_or_404(user_id)
    form = EmptyForm()
    disabling = request.form.get("active") != "1"
    if form.validate_on_submit() and disabling and user.id != current_user.id and not confirmed():
        return confirmation_page(  # without JavaScript: ask first (with it, hx-confirm asked)
            title=_("Disable %(name)s?", name=user.display_name),
            message=_("%(name)s is signed out everywhere at once and can no longer sign in. Their cases stay "
                      "assigned to them until a supervisor reassigns them. You can enable the account again "
                      "later.", name=user.display_name),
            button=_("Disable the account"), back_url=url_for("admin.users"))
    if form.validate_on_submit():
        try:
            services.set_active(current_user, user, request.form.get("active") == "1")
        except Refusal as refusal:
            db.session.rollback()
            flash(str(refusal.message), "error")
        else:
            db.session.commit()
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@password_confirmation_required
def user_password(user_id):
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(current_user, user, form.password.data)
        db.session.commit()
        flash(_("New password set for %(name)s; their sessions have ended.", name=user.username), "success")
        return redirect(url_for("admin.users"))
    return render("admin/user_password.html", form=form, user=user), 422 if form.errors else 200
