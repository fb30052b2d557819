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


# SQLite transactions: every transaction that SQLAlchemy begins is BEGIN IMMEDIATE (the write lock up front).
#
# Why not deferred reads + immediate writes: a deferred transaction that reads and then writes must upgrade
# its lock, and when another connection committed in between (WAL), SQLite answers SQLITE_BUSY_SNAPSHOT at
# once, "database is locked", without the busy timeout ever waiting. A request cannot say in advance whether
# it will write (a GET of a case file writes its audit entry), so every transaction takes the lock first and
# the busy timeout makes the others wait their turn instead of failing. Measured cheap: WAL readers never
# wait for the lock; only transactions of the (2) gunicorn workers queue on one another, and SQLite admits
# one writer at a time anyway. (Load test: tests/load, 30 users on 2 workers, zero errors.)
#
# The recipe documented by SQLAlchemy ("Serializable isolation / Savepoints / Transactional DDL" for pysqlite):
# the driver's own implicit BEGIN is switched off (isolation_level=None) and the "begin" event emits ours.
# PostgreSQL is untouched: both listeners return at once for any other driver.
SQLITE_BUSY_TIMEOUT_MS = 5000


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
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def dispose_after_fork(app) -> None:
    """A forked worker must not share the parent's pooled connections (gunicorn.conf.py post_fork)."""
    from crm.extensions import db
    with app.app_context():
        db.engine.dispose(close=False)  # drops the inherited pool without closing the parent's sockets
