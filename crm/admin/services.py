"""User administration: every change is audited and ends the target's sessions.

Changing roles, branch, password or the active flag ends all of the user's sessions through
crm.auth.sessions' flush listener; the services call ``end_all_sessions`` too, so that any change
an administrator makes (even of the name) signs the user out everywhere.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.auth.models import Branch, Role, User
from crm.auth.passwords import check_password, hash_password
from crm.errors import Refusal
from crm.extensions import db


def roles_from(values) -> Role:
    flags = Role(0)
    for value in values or ():
        if value not in Role.__members__:
            raise Refusal(_l("Choose valid roles."), field="roles")
        flags |= Role[value]
    if not flags:
        raise Refusal(_l("Choose at least one role."), field="roles")
    return flags


def _branch(branch_id) -> Branch:
    branch = db.session.get(Branch, branch_id) if branch_id else None
    if branch is None:
        raise Refusal(_l("Choose a branch."), field="branch")
    return branch


def _role_names(roles: Role) -> list[str]:
    return [r.name for r in Role.singles() if roles & r]


def create_user(actor: User, *, username: str, display_name: str, branch_id: int, roles: Role,
                password: str) -> User:
    username = username.strip()
    if db.session.scalar(select(func.count()).select_from(User).where(
            func.lower(User.username) == username.lower())):
        raise Refusal(_l("This username is taken."), field="username")
    user = User(username=username, display_name=display_name.strip(), branch=_branch(branch_id), roles=roles,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, roles=_role_names(roles), branch_id=user.branch_id)
    return user


def claim_version(user: User, expected: int | None) -> None:
    """Optimistic locking of the admin edit: one conditional UPDATE moves the version on, or StaleDataError
    when another administrator saved the user since ``expected`` was read (the caller rolls back)."""
    bumped = db.session.execute(update(User).where(User.id == user.id, User.version == expected)
                                .values(version=User.version + 1).execution_options(synchronize_session=False))
    if expected is None or bumped.rowcount != 1:
        raise StaleDataError(f"users row {user.id} was saved since version {expected}")
    db.session.expire(user, ["version"])


def update_user(actor: User, user: User, *, display_name: str, branch_id: int, roles: Role,
                expected_version: int | None = None) -> None:
    """Change a user; with ``expected_version`` refuse (StaleDataError) an edit based on an older version."""
    if expected_version is not None:
        claim_version(user, expected_version)
    if user.id == actor.id and user.has_role(Role.ADMIN) and not roles & Role.ADMIN:
        raise Refusal(_l("You cannot remove your own administrator role."), field="roles")
    branch = _branch(branch_id)
    changes = {}
    if roles != user.roles:
        changes["roles"] = {"from": _role_names(user.roles), "to": _role_names(roles)}
    if branch.id != user.branch_id:
        changes["branch_id"] = {"from": user.branch_id, "to": branch.id}
    if display_name.strip() != user.display_name:
        changes["display_name"] = True  # the name itself stays out of the log
    if not changes:
        return
    user.display_name, user.branch, user.roles = display_name.strip(), branch, roles
    user.end_all_sessions()
    record(actor, "user.update", user, **changes)


def set_active(actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise Refusal(_l("You cannot disable your own account."))
    if user.is_active_user == active:
        return
    user.is_active_user = active
    user.end_all_sessions()
    record(actor, "user.enable" if active else "user.disable", user)


def reset_password(actor: User, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.end_all_sessions()
    record(actor, "user.password_reset", user)


def change_own_password(user: User, current: str, password: str) -> None:
    """The user's own change: ends every session (the view opens a new one for this browser)."""
    if not check_password(user.password_hash, current):
        raise Refusal(_l("That is not your current password."), field="current")
    if current == password:
        raise Refusal(_l("Choose a password different from the current one."), field="password")
    user.password_hash = hash_password(password)
    user.end_all_sessions()
    record(user, "user.password_change", user)
