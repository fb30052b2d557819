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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
