"""crm.throttle: database counters shared by every process, sliding window, cheap cleanup."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm import clock, create_app, throttle
from crm.config import TestConfig
from crm.throttle import RateLimitCounter

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def at(monkeypatch):
    """at(dt) sets crm.clock's 'now'."""
    def set_now(moment):
        monkeypatch.setattr(clock, "now_utc", lambda: moment)
    set_now(T0)
    return set_now


def test_allows_up_to_the_limit_then_refuses(db, at):
    assert [throttle.allow("k", 3, 60) for _ in range(5)] == [True, True, True, False, False]


def test_keys_are_independent_and_reset_forgets(db, at):
    for _ in range(3):
        throttle.allow("a", 2, 60)
    assert throttle.allow("b", 2, 60) is True
    assert throttle.allow("a", 2, 60) is False
    throttle.reset("a")
    assert throttle.allow("a", 2, 60) is True


def test_the_window_slides(db, at):
    for _ in range(4):
        throttle.allow("k", 4, 60)
    at(T0 + timedelta(seconds=61))  # next window, the previous one still mostly overlaps
    assert throttle.allow("k", 4, 60) is False
    at(T0 + timedelta(seconds=180))
    assert throttle.allow("k", 4, 60) is True


def test_keys_are_stored_hashed_and_expired_windows_are_cleaned(db, at):
    throttle.allow("login:user:alice", 5, 60)
    assert "alice" not in str(db.session.scalars(select(RateLimitCounter.key_hash)).all())
    at(T0 + timedelta(hours=1))
    throttle.allow("other", 5, 60)  # a new window: expired counters go
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


def test_counts_hold_across_two_app_instances_sharing_the_database(app, db, at):
    class Other(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    other = create_app(Other)
    assert throttle.allow("shared", 2, 60) is True
    with other.app_context():
        assert throttle.allow("shared", 2, 60) is True
        assert throttle.allow("shared", 2, 60) is False
        from crm.extensions import db as other_db
        other_db.session.remove()
        other_db.engine.dispose()
    assert throttle.allow("shared", 2, 60) is False


def test_memory_storage_for_development(app, db, at, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE", "memory")
    assert [throttle.allow("m", 1, 60) for _ in range(2)] == [True, False]
    throttle.reset("m")
    assert throttle.allow("m", 1, 60) is True
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_refuses_to_commit_pending_changes(db, at):
    from tests import factories
    factories.make_branch()
    db.session.flush()
    from crm.auth.models import Branch
    db.session.add(Branch(name="pending", city="x"))
    with pytest.raises(RuntimeError):
        throttle.allow("k", 1, 60)
    db.session.rollback()
