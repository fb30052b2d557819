"""The case file shows the phone masked; the full number needs a fresh password entry and is audited."""

from flask_login import current_user

from crm.audit.services import record
from crm.auth.reauth import ask_for_password, password_recently_confirmed
from crm.extensions import db
from crm.members import bp
from crm.members.views import get_member_for
from crm.web import render


@bp.app_template_filter("masked_phone")
def masked_phone(phone: str | None) -> str:
    if not phone:
        return "—"
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


@bp.route("/<int:member_id>/phone")
def reveal_phone(member_id):
    member = get_member_for(current_user, member_id)  # access first: a refusal never asks for a password
    if not password_recently_confirmed():
        return ask_for_password()
    record(current_user, "member.reveal_phone", member)
    db.session.commit()
    return render("members/phone.html", "number", member=member)
