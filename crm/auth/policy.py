"""Who may do what: the one place for role and record-level permission rules.

Two layers, both deny by default:
- ``ROUTE_ACCESS`` names, for every endpoint, the roles that may call it at all. An endpoint
  missing from the table is refused, and a test walks the URL map to keep the table complete.
- ``can_*`` functions decide about one record; loaders call them before a view does anything.
"""

from flask import abort, request
from flask_login import current_user
from sqlalchemy import false, or_, true

from crm.auth.models import Role

PUBLIC = "public"
STAFF = Role.VOLUNTEER | Role.COUNSELLOR | Role.SUPERVISOR | Role.ADMIN
CASEWORK = Role.VOLUNTEER | Role.SUPERVISOR | Role.ADMIN
MANAGERS = Role.SUPERVISOR | Role.ADMIN

ROUTE_ACCESS: dict[str, Role | str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": STAFF,
    "auth.home": STAFF,
    "members.index": CASEWORK,
    "members.search": CASEWORK,
    "members.new": CASEWORK,
    "members.detail": CASEWORK,
    "members.edit": CASEWORK,
    "members.set_status": CASEWORK,
    "members.add_note": CASEWORK,
    "members.edit_note": CASEWORK,
    "members.verify": MANAGERS,
    "members.reassign": MANAGERS,
    "members.team": MANAGERS,
    "members.reassign_bulk": MANAGERS,
    "audit.index": Role.ADMIN,
    "admin.users": Role.ADMIN,
}


def route_allows(user, endpoint: str) -> bool:
    access = ROUTE_ACCESS.get(endpoint)
    if access is None:
        return False
    if access == PUBLIC:
        return True
    return user.is_authenticated and bool(user.roles & access)


def _check_route():
    """before_request for the whole app: login and role gate from ROUTE_ACCESS."""
    endpoint = request.endpoint
    if endpoint is None:  # unknown URL: let Flask answer 404
        return None
    if ROUTE_ACCESS.get(endpoint) == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from crm.extensions import login_manager
        return login_manager.unauthorized()
    if not route_allows(current_user, endpoint):
        abort(403)
    return None


def init_app(app):
    app.before_request(_check_route)


# --- Members -------------------------------------------------------------------------------

def can_view_member(user, member) -> bool:
    """Open the full case file (identity included)."""
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id:
        return True
    return user.has_role(Role.VOLUNTEER) and member.owner_id == user.id


def can_edit_member(user, member) -> bool:
    """Volunteers edit their own caseload; supervisors their branch; admins all."""
    return can_view_member(user, member)


def can_verify_member(user, member) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id


def can_reassign_member(user, member) -> bool:
    return can_verify_member(user, member)


def can_assign_to(user, volunteer) -> bool:
    """Whether ``user`` may hand cases to ``volunteer``."""
    if not (volunteer.is_active_user and volunteer.has_role(Role.VOLUNTEER)):
        return False
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR)
                                         and volunteer.branch_id == user.branch_id)


def can_edit_note(user, note, member) -> bool:
    """The author may correct their note (the old text is kept); supervisors of the branch too."""
    return can_edit_member(user, member) and (note.author_id == user.id or can_verify_member(user, member))


def visible_members_clause(user):
    """A SQL condition selecting the members whose case files ``user`` may open."""
    from crm.members.models import Member

    if user.has_role(Role.ADMIN):
        return true()
    conditions = []
    if user.has_role(Role.SUPERVISOR):
        conditions.append(Member.branch_id == user.branch_id)
    if user.has_role(Role.VOLUNTEER):
        conditions.append(Member.owner_id == user.id)
    return or_(*conditions) if conditions else false()


def can_view_team(user) -> bool:
    return bool(user.roles & MANAGERS)
