"""Staff users, their roles and the branches they work in."""

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import now_utc
from crm.enums import FlagType
from crm.extensions import db


class Role(enum.Flag):
    VOLUNTEER = 1
    COUNSELLOR = 2
    SUPERVISOR = 4
    ADMIN = 8

    @property
    def label(self):
        return {
            Role.VOLUNTEER: _l("Volunteer"),
            Role.COUNSELLOR: _l("Counsellor"),
            Role.SUPERVISOR: _l("Supervisor"),
            Role.ADMIN: _l("Administrator"),
        }[self]

    @classmethod
    def singles(cls):
        return [Role.VOLUNTEER, Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN]


class Branch(db.Model):
    """A union's matchmaking centre or one of its sub-stations."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    city: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    def __repr__(self):
        return f"<Branch {self.id} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("max_caseload IS NULL OR max_caseload >= 0", name="max_caseload_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counts administrators' edits of the record (crm.admin: optimistic locking of the edit form). Deliberately
    # not a version_id_col: logins and token resets update this row too and must not conflict with an edit.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[Role] = mapped_column(FlagType(Role), default=Role.VOLUNTEER)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    # "unnested": inside an outer join (a note's author, an owner) this renders as a chained LEFT OUTER JOIN
    # branches, not a right-nested (users JOIN branches) that SQLite materializes by scanning every user
    # (10-80 ms per statement with 2,000 users; bench/RESULTS.md).
    branch: Mapped[Branch] = relationship(lazy="joined", innerjoin="unnested")
    is_active_user: Mapped[bool] = mapped_column(default=True)
    # Open case files this volunteer can look after (crm.stats); None = no limit. Reassigning beyond it warns.
    max_caseload: Mapped[int | None] = mapped_column(default=60)
    # Part of the login cookie: changing it ends every session of this user at once.
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Secret in the URL of the user's follow-up calendar feed (crm.followups); reset to revoke.
    ics_token: Mapped[str | None] = mapped_column(String(43), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_login_at: Mapped[datetime | None]

    def __repr__(self):
        return f"<User {self.id} {self.username}>"

    def has_role(self, role: Role) -> bool:
        return bool(self.roles & role)

    @property
    def role_labels(self):
        return [r.label for r in Role.singles() if self.has_role(r)]

    @property
    def is_active(self):  # Flask-Login refuses inactive users
        return self.is_active_user

    def get_id(self):
        # "<id>:<token>" of the server-side session this object was signed in with (crm.auth.sessions);
        # without one, a value that no session row matches (the loader refuses it).
        return f"{self.id}:{getattr(self, 'session_cookie_token', None) or self.session_token}"

    def end_all_sessions(self):
        self.session_token = secrets.token_hex(16)

    @staticmethod
    def with_role(role: Role):
        """A select() of active users holding ``role``."""
        return select(User).where(User.roles.op("&")(role.value) != 0, User.is_active_user.is_(True))
