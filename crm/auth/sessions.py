"""Server-side sign-in sessions: one row per signed-in browser, so that any of them can be ended.

The login cookie (Flask-Login's ``_user_id`` in the session cookie, and the remember-me cookie)
holds ``"<user id>:<random token>"``; the table keeps only the token's SHA-256. A request is signed
in only while its row exists and is fresh:

- without remember-me: idle for at most SESSION_IDLE_MINUTES (30) and at most
  SESSION_ABSOLUTE_HOURS (12) since sign-in;
- with remember-me: until ``remember_until``, at most 30 days after sign-in (REMEMBER_COOKIE_DURATION,
  capped at REMEMBER_MAX_DAYS).

Every session of a user ends at once (the rows are deleted, so a copied cookie stops working) when
the user signs out, or when their roles, password, active flag or ``session_token`` change: a
flush listener below watches those columns, whatever code changes them (admin pages, CLI, services).
``last_seen_at`` is written at most once a minute (SESSION_TOUCH_SECONDS), not on every request.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ForeignKey, String, bindparam, delete, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm import clock
from crm.auth.models import User
from crm.extensions import db

# Changing any of these ends every session of the user.
REVOKING_COLUMNS = ("roles", "password_hash", "is_active_user", "session_token", "branch_id", "branch")


class UserSession(db.Model):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    remember_until: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(120), default="")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_duration() -> timedelta:
    cfg = current_app.config
    return min(cfg["REMEMBER_COOKIE_DURATION"], timedelta(days=cfg["REMEMBER_MAX_DAYS"]))


def issue(user: User, remember: bool = False, user_agent: str = "") -> str:
    """Open a session for ``user`` (flushed, the caller commits); returns the id for the login cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now_utc()
    record = UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                         remember_until=now + remember_duration() if remember else None,
                         user_agent=(user_agent or "")[:120])
    db.session.add(record)
    db.session.flush()
    user.session_cookie_token = token
    user.session_record_id = record.id
    return f"{user.id}:{token}"


def is_fresh(record: UserSession, now: datetime) -> bool:
    cfg = current_app.config
    if record.remember_until is not None:
        return record.created_at <= now <= record.remember_until
    return (now - record.last_seen_at <= timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
            and now - record.created_at <= timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]))


# Every signed-in request runs this statement: built once (building it per request was a third of the sign-in
# check's CPU, issue 10); the user's branch comes with it (User.branch is a joined load).
_LOAD = (select(UserSession, User).join(User, User.id == UserSession.user_id)
         .where(UserSession.token_hash == bindparam("token_hash"), UserSession.user_id == bindparam("user_id")))


def load(cookie_id: str) -> User | None:
    """The user a login cookie names, if its session is still open (Flask-Login's user_loader)."""
    user_id, _sep, token = (cookie_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 10) or not 20 <= len(token) <= 64:
        return None
    row = db.session.execute(_LOAD, {"token_hash": _hash(token), "user_id": int(user_id)}).first()
    if row is None:
        return None
    record, user = row
    now = clock.now_utc()
    if not user.is_active_user or not is_fresh(record, now):
        db.session.delete(record)
        db.session.commit()
        return None
    if (now - record.last_seen_at).total_seconds() >= current_app.config["SESSION_TOUCH_SECONDS"]:
        record.last_seen_at = now
        db.session.commit()
    user.session_cookie_token = token
    user.session_record_id = record.id
    return user


def end(record_id: int | None) -> None:
    """End one session (sign-out of this browser only)."""
    if record_id is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == record_id))


def end_all(user_id: int, keep: int | None = None) -> None:
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    db.session.execute(statement)


def open_sessions(user_id: int) -> int:
    from sqlalchemy import func
    return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


# --- Ending sessions whenever what they were granted on changes ------------------------------

_PENDING = "crm.auth.sessions.revoke"


@event.listens_for(Session, "before_flush")
def _collect_revocations(session, _context, _instances):
    for obj in session.dirty:
        if not isinstance(obj, User):
            continue
        state = inspect(obj)
        changed = [name for name in REVOKING_COLUMNS if state.attrs[name].history.has_changes()]
        if not changed:
            continue
        session.info.setdefault(_PENDING, set()).add(obj.id)
        if "session_token" not in changed:
            import secrets as _secrets
            obj.session_token = _secrets.token_hex(16)


@event.listens_for(Session, "after_flush")
def _revoke(session, _context):
    user_ids = session.info.pop(_PENDING, None)
    if user_ids:
        session.connection().execute(delete(UserSession.__table__).where(UserSession.__table__.c.user_id.in_(user_ids)))
