"""Test harness: an app on a real database (SQLite file, or PostgreSQL from TEST_DATABASE_URL),
migrated with Alembic once per session and emptied after every test."""

import os
from contextlib import contextmanager

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db as _db
from tests import factories


class FreshUserClient(FlaskClient):
    """Each request loads the signed-in user from its own cookie, as in production.

    The test holds an app context that the client's requests share, so without this Flask-Login's
    user cached in ``g`` leaks from one request to the next, even to a client with no cookie at all.
    Flask-Babel caches the locale in ``g`` the same way, so a language switch would never show.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)
            g.pop("csrf_token", None)  # Flask-WTF caches the token in g; sign-in starts a new session
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        # A file, not :memory:, so that the live server's threads share it (a temp dir per xdist worker).
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _database_of_worker(server, worker) if worker else server


def _database_of_worker(server: str, worker: str) -> str:
    """Parallel workers (pytest -n) each get their own database on the server, as each gets its own SQLite file:
    every test empties all tables afterwards, which must never happen under another worker's test."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"{url.database}_{worker}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """`pytest` alone sees the catalogues as `make test` does: compiles each .po newer than its .mo."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parents[1].glob("crm/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalogue = read_po(f)
        partial = mo.with_name(f"messages.mo.{os.getpid()}")  # renamed into place: parallel runs never read half a file
        with partial.open("wb") as f:
            write_mo(f, catalogue)
        os.replace(partial, mo)


@pytest.fixture(scope="session")
def app(database_url):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    app.test_client_class = FreshUserClient
    with app.app_context():
        from flask_migrate import downgrade, upgrade
        if database_url.startswith("postgresql"):
            downgrade(revision="base")  # a reused server may hold an earlier run's schema
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()  # closes pooled connections: psycopg warns (an error here) about open ones at exit


def _empty_all_tables():
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _empty_used_tables_postgresql(conn, tables)
        else:
            for table in tables:
                conn.execute(table.delete())


def _empty_used_tables_postgresql(conn, tables):
    """Only the tables holding rows are emptied, and only the sequences a test advanced are restarted, which
    leaves the database exactly as a full TRUNCATE ... RESTART IDENTITY would. DELETE, children first, rather
    than TRUNCATE: a test leaves a few rows, and TRUNCATE ... CASCADE writes new files for every table that
    refers to the ones it empties (~20 ms after each test, about a minute of the suite)."""
    probe = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in tables)
    holding_rows = set(conn.execute(text(probe)).scalars())
    for table in tables:  # children before their parents
        if table.name in holding_rows:
            conn.execute(table.delete())
    conn.execute(text(  # RESTART, in one statement for all the sequences a test advanced
        "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
        " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"))


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()
        _empty_all_tables()


@pytest.fixture
def chinese_by_default(app, monkeypatch):
    """The production default language (tests otherwise run in English, the source language)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh_Hans_CN")


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def login_as(client, db):
    """login_as("volunteer") creates a user with that role and signs the client in as them."""

    def login(role_or_user="volunteer", **overrides):
        user = role_or_user if not isinstance(role_or_user, str) else factories.make_user(role_or_user, **overrides)
        _db.session.commit()
        response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD,
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


def csrf_token(client) -> str:
    """A valid CSRF token for the client's session."""
    import re
    page = client.get("/login").get_data(as_text=True)
    if 'name="csrf_token"' not in page:
        page = client.get("/members/new").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def csrf(client):
    return lambda: csrf_token(client)


@contextmanager
def _counting(engine):
    statements = []

    def before(conn, cursor, statement, *args):
        if statement not in ("BEGIN", "BEGIN IMMEDIATE"):  # SQLite's transaction start (crm.database), not a query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def count_queries(db):
    """with count_queries() as statements: ...; len(statements) is the number of SQL statements."""
    return lambda: _counting(_db.engine)


def pytest_collection_modifyitems(config, items):
    """The minute-long tests run first, so that parallel workers (pytest -n) never finish on one of them while the
    other worker waits. Browser tests need Chromium; CI sets REQUIRE_BROWSER=1 so that they can never be skipped."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("load")))
    if os.path.exists(factories.CHROMIUM) or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"{factories.CHROMIUM} is not installed (run `make test`, which installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
