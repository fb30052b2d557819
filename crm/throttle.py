"""Rate limiting that holds across every server process: counters live in the database.

    from crm import throttle
    if not throttle.allow(f"login:ip:{request.remote_addr}", limit=30, per_seconds=900):
        ...refuse...

``allow`` records one hit and answers False once ``key`` has had more than ``limit`` hits in the
last ``per_seconds`` (a sliding window estimated from two fixed-window counters: the current
window's count plus the previous window's count weighted by how much of it still overlaps).

Each hit is one atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite >= 3.35 and
PostgreSQL), so concurrent workers never lose a count. Keys are stored hashed (a key may hold a
username or an IP address). Expired windows are deleted when a key opens a new window, through
the index on ``expires_at``: no cron job needed.

``allow`` COMMITS the current database session (the hit must be kept even when the caller then
refuses the request and writes nothing): call it before changing anything in the request.

Config ``RATELIMIT_STORAGE``: "database" (default) or "memory" (one process only, for
development; ``flask check-deploy`` refuses it with several workers).
"""

import calendar
import hashlib
import threading
from collections import defaultdict

from flask import current_app
from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from crm import clock
from crm.extensions import db


class RateLimitCounter(db.Model):
    """Hits on one key within one fixed window of ``per_seconds``."""

    __tablename__ = "rate_limit_counters"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)  # epoch seconds; deletable after


def _now() -> int:
    return calendar.timegm(clock.now_utc().timetuple())


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _storage() -> str:
    return current_app.config.get("RATELIMIT_STORAGE", "database")


def _estimate(current: int, previous: int, now: int, window_start: int, per_seconds: int) -> float:
    overlap = 1 - (now - window_start) / per_seconds
    return current + previous * overlap


def allow(key: str, limit: int, per_seconds: int) -> bool:
    """Record a hit on ``key``; False when it is over ``limit`` hits per ``per_seconds``."""
    if per_seconds <= 0 or limit < 0:
        raise ValueError("limit must be >= 0 and per_seconds > 0")
    now = _now()
    window_start = now - now % per_seconds
    if _storage() == "memory":
        return _memory.allow(key, limit, per_seconds, now, window_start)
    return _database_allow(_hash(key), limit, per_seconds, now, window_start)


def reset(key: str) -> None:
    """Forget every hit on ``key`` (for example after a successful sign-in). Commits."""
    if _storage() == "memory":
        _memory.reset(key)
        return
    _check_nothing_pending()
    db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key_hash == _hash(key)))
    db.session.commit()


def _check_nothing_pending():
    session = db.session
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise RuntimeError("crm.throttle commits the session: call it before changing anything")


def _upsert(key_hash: str, window_start: int, expires_at: int):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app supports these two
        raise RuntimeError(f"crm.throttle does not support {dialect}")
    table = RateLimitCounter.__table__
    statement = insert(table).values(key_hash=key_hash, window_start=window_start, hits=1, expires_at=expires_at)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key_hash, table.c.window_start],
        set_={"hits": table.c.hits + 1},
    ).returning(table.c.hits)


def _database_allow(key_hash: str, limit: int, per_seconds: int, now: int, window_start: int) -> bool:
    _check_nothing_pending()
    session = db.session
    # The previous window is needed for the estimate until the current one ends.
    hits = session.execute(_upsert(key_hash, window_start, window_start + 2 * per_seconds)).scalar_one()
    previous = session.scalar(select(RateLimitCounter.hits).where(
        RateLimitCounter.key_hash == key_hash, RateLimitCounter.window_start == window_start - per_seconds)) or 0
    if hits == 1:  # a new window: the cheap moment to drop every expired counter
        session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < now))
    session.commit()
    return _estimate(hits, previous, now, window_start, per_seconds) <= limit


class _MemoryStore:
    """Per-process counters for development (RATELIMIT_STORAGE = "memory")."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, int], int] = defaultdict(int)

    def allow(self, key, limit, per_seconds, now, window_start) -> bool:
        with self.lock:
            self.counts[(key, window_start)] += 1
            hits = self.counts[(key, window_start)]
            previous = self.counts.get((key, window_start - per_seconds), 0)
            if hits == 1:
                for stale in [k for k in self.counts if k[1] < window_start - per_seconds]:
                    del self.counts[stale]
        return _estimate(hits, previous, now, window_start, per_seconds) <= limit

    def reset(self, key):
        with self.lock:
            for stale in [k for k in self.counts if k[0] == key]:
                del self.counts[stale]


_memory = _MemoryStore()
