"""Engine settings that every connection needs, whatever the database."""

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


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
