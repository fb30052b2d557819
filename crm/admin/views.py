from sqlalchemy import select

from crm.admin import bp
from crm.auth.models import User
from crm.extensions import db
from crm.web import render


@bp.route("/users")
def users():
    return render("admin/users.html", users=list(db.session.scalars(
        select(User).order_by(User.branch_id, User.username))))
