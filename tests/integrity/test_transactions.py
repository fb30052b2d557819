"""SQLite: a transaction that writes holds the write lock from its start (POST) or from before its first
write (page views, CLI); no "database is locked" reaches anyone. PostgreSQL: untouched."""

import sqlite3
import threading

import pytest
from sqlalchemy import text

from crm.members.models import Member
from tests import factories


@pytest.fixture
def sqlite_path(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    return db.engine.url.database


def _other_can_take_the_lock(path) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_post_takes_the_write_lock_with_its_first_statement(app, db, sqlite_path):
    with app.test_request_context("/members/1/notes", method="POST"):
        db.session.execute(text("SELECT 1"))  # only a read so far
        assert not _other_can_take_the_lock(sqlite_path)
        db.session.rollback()
    assert _other_can_take_the_lock(sqlite_path)


def test_a_page_view_reads_without_the_lock_and_takes_it_before_writing(app, db, sqlite_path):
    factories.make_member(owner=None)
    db.session.commit()
    with app.test_request_context("/members/", method="GET"):
        db.session.scalar(text("SELECT count(*) FROM members"))
        assert _other_can_take_the_lock(sqlite_path)  # a reader blocks no writer
        # Another connection writes after our snapshot began: our own write must still succeed.
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        other.execute("UPDATE members SET name = '别人改的'")
        other.close()
        db.session.execute(text("UPDATE members SET name = '页面写的'"))
        assert not _other_can_take_the_lock(sqlite_path)  # from the first write on, we hold it
        db.session.commit()
    assert db.session.scalar(text("SELECT name FROM members")) == "页面写的"


def test_concurrent_read_then_write_transactions_never_see_database_is_locked(app, db, sqlite_path):
    member = factories.make_member(owner=None)
    db.session.commit()
    member_id, errors = member.id, []
    barrier = threading.Barrier(4)

    def work(method):
        try:
            with app.app_context(), app.test_request_context("/x", method=method):
                from crm.extensions import db as _db
                barrier.wait(10)
                for _ in range(8):
                    height = _db.session.scalar(text("SELECT height_cm FROM members WHERE id = :i"), {"i": member_id})
                    _db.session.execute(text("UPDATE members SET height_cm = :h WHERE id = :i"),
                                        {"h": (height or 150) + 1, "i": member_id})
                    _db.session.commit()
                _db.session.remove()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in ("POST", "POST", "GET", "GET")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Member, member_id).height_cm is not None


def test_postgresql_is_left_alone(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        with app.test_request_context("/x", method="POST"):
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert not any("IMMEDIATE" in s for s in statements)
