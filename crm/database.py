"""Engine settings that every connection needs, whatever the database."""

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Primary keys are INTEGER: 32 bits on PostgreSQL. A bigger number from a URL or a form cannot name a
# record, and PostgreSQL would answer it with "integer out of range" (a 500) instead of "not found".
MAX_ID = 2**31 - 1


def as_id(value) -> int | None:
    """The record id that ``value`` (from a URL, a form or a query string) can name, or None."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def init_app(app):
    """Nothing per app: the SQLite pragmas are set per connection for every engine."""


# SQLite transactions take the write lock up front (BEGIN IMMEDIATE) whenever they may write, so that
# "database is locked" never reaches a user: the busy timeout makes a writer wait its turn instead.
#
# Why not deferred: a deferred transaction that reads and then writes must upgrade its lock, and when another
# connection committed in between (WAL), SQLite answers SQLITE_BUSY_SNAPSHOT at once, "database is locked",
# without the busy timeout ever waiting. Why not IMMEDIATE for everything: measured, it is not cheap. The
# lock is then held for the whole of every request, page rendering and password hashing included; under the
# load test (30 users, 2 workers) a sign-in (argon2, ~1 s on a busy machine) kept the other worker waiting
# past the busy timeout, and every GET queued behind every other. So:
# - a transaction begun while handling a POST (any method but GET/HEAD/OPTIONS) is BEGIN IMMEDIATE: its
#   checks (capacity, versions, duplicates) and its writes are serialised with every other writer;
# - any other transaction (a page view, a CLI command, a test) begins deferred and reads from its snapshot
#   without blocking anyone. Just before its first write (any statement but SELECT/PRAGMA) it ends the read
#   transaction, in which nothing was written, and takes BEGIN IMMEDIATE: the write waits its turn and can
#   never meet a stale snapshot. What a page view writes (its audit entry, a session touch) does not depend
#   on the snapshot it read; versioned rows still refuse a stale update (optimistic locking).
# The recipe documented by SQLAlchemy for pysqlite: the driver's own implicit BEGIN is switched off
# (isolation_level=None) and the engine's "begin" event emits ours. PostgreSQL is untouched: every listener
# returns at once for any other dialect.
SQLITE_BUSY_TIMEOUT_MS = 20_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFERRED = "queqiao_sqlite_deferred"  # key in the DBAPI connection's info: a read transaction not yet upgraded


def _write_intent() -> bool:
    from flask import has_request_context, request
    return has_request_context() and request.method not in SAFE_METHODS


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own; _sqlite_begin does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    immediate = _write_intent()
    conn.info[_DEFERRED] = not immediate
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_upgrade_before_first_write(conn, cursor, statement, _parameters, _context, _executemany):
    if conn.dialect.name != "sqlite" or not conn.info.get(_DEFERRED):
        return
    keyword = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if keyword in ("SELECT", "PRAGMA", "BEGIN", "EXPLAIN"):
        return
    conn.info[_DEFERRED] = False
    if conn.connection.driver_connection.in_transaction:
        cursor.execute("COMMIT")  # ends the read snapshot; nothing was written in it
    cursor.execute("BEGIN IMMEDIATE")


def dispose_after_fork(app) -> None:
    """A forked worker must not share the parent's pooled connections (gunicorn.conf.py post_fork)."""
    from crm.extensions import db
    with app.app_context():
        db.engine.dispose(close=False)  # drops the inherited pool without closing the parent's sockets
