"""Server-side sessions: revocation (a copied cookie stops working), timeouts, remember-me cap,
and login throttling with the same answer for unknown users."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from crm import clock, create_app
from crm.auth.models import Role, User
from crm.auth.passwords import hash_password
from crm.auth.sessions import UserSession
from crm.config import TestConfig
from tests import factories
from tests.conftest import FreshUserClient, csrf_token

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def at(monkeypatch):
    def set_now(moment):
        monkeypatch.setattr(clock, "now_utc", lambda: moment)
    set_now(T0)
    return set_now


def _login(client, username, password=factories.PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client), **extra})


def _signed_in(client):
    response = client.get("/members/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def _copy(app, client, *names):
    """Another browser with this one's cookies (a stolen or copied cookie)."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


def _remembered_only(app, client):
    return _copy(app, client, "remember_token")


@pytest.fixture
def signed_in(app, client, db, at):
    user = factories.make_user("volunteer")
    db.session.commit()
    assert _login(client, user.username, remember="y").status_code == 302
    copies = [_copy(app, client, "session"), _remembered_only(app, client)]
    assert all(_signed_in(c) for c in copies)
    return user, copies


def _change(db, user_id, **values):
    user = db.session.get(User, user_id)
    for name, value in values.items():
        setattr(user, name, value)
    db.session.commit()


@pytest.mark.parametrize("change", ["logout", "disable", "password", "role", "branch"])
def test_copied_cookies_stop_working_when_sessions_end(app, client, db, signed_in, change, csrf):
    user, copies = signed_in
    if change == "logout":
        assert client.post("/logout", data={"csrf_token": csrf()}).status_code == 302
    elif change == "disable":
        _change(db, user.id, is_active_user=False)
    elif change == "password":
        _change(db, user.id, password_hash=hash_password("a brand new password"))
    elif change == "role":
        _change(db, user.id, roles=Role.VOLUNTEER | Role.SUPERVISOR)
    else:
        _change(db, user.id, branch=factories.make_branch())
    for replay in copies:
        assert not _signed_in(replay)
    assert not _signed_in(client)
    assert db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all() == []


def test_idle_timeout_is_30_minutes(app, client, db, at):
    user = factories.make_user("volunteer")
    db.session.commit()
    _login(client, user.username)
    at(T0 + timedelta(minutes=29))
    assert _signed_in(client)
    at(T0 + timedelta(minutes=58))  # 29 minutes after the last request
    assert _signed_in(client)
    at(T0 + timedelta(minutes=58 + 31))
    assert not _signed_in(client)


def test_absolute_timeout_is_12_hours_even_when_active(app, client, db, at):
    user = factories.make_user("volunteer")
    db.session.commit()
    _login(client, user.username)
    for minutes in range(20, 12 * 60, 20):
        at(T0 + timedelta(minutes=minutes))
        assert _signed_in(client), minutes
    at(T0 + timedelta(hours=12, minutes=5))
    assert not _signed_in(client)


def test_remember_me_lasts_at_most_30_days(app, client, db, at, monkeypatch):
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_DURATION", timedelta(days=365))
    user = factories.make_user("volunteer")
    db.session.commit()
    response = _login(client, user.username, remember="y")
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")][0]
    assert "Expires=" in remember
    at(T0 + timedelta(days=29))
    assert _signed_in(_remembered_only(app, client))
    at(T0 + timedelta(days=30, minutes=1))
    assert not _signed_in(_remembered_only(app, client))


def test_last_seen_is_written_at_most_once_a_minute(app, client, db, at, count_queries):
    user = factories.make_user("volunteer")
    db.session.commit()
    _login(client, user.username)

    def updates():
        with count_queries() as statements:
            client.get("/members/")
        return [s for s in statements if s.lstrip().upper().startswith("UPDATE USER_SESSIONS")]

    at(T0 + timedelta(seconds=30))
    assert updates() == []
    at(T0 + timedelta(seconds=61))
    assert len(updates()) == 1
    assert updates() == []


def test_end_all_signs_out_every_browser_of_the_user(app, client, db, at, csrf):
    user = factories.make_user("volunteer")
    db.session.commit()
    _login(client, user.username)
    other = app.test_client()
    _login(other, user.username)
    from crm.auth import sessions
    with app.test_request_context():
        from crm.auth.models import User as U
        u = db.session.get(U, user.id)
        sessions.end_all(u.id)
    db.session.commit()
    assert not _signed_in(client) and not _signed_in(other)


def test_a_second_app_instance_sees_revocation(app, client, db, at):
    """Two server processes share the database: ending sessions in one ends them in the other."""
    user = factories.make_user("volunteer")
    db.session.commit()
    _login(client, user.username)

    class Same(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    other_app = create_app(Same)
    other_app.test_client_class = FreshUserClient
    user_id = user.id
    db.session.rollback()  # this app's requests share the test's session: release its SQLite lock
    with other_app.app_context():
        other = _copy(other_app, client, "session")
        assert other.get("/members/").status_code == 200
        _change(db, user_id, is_active_user=False)
        assert other.get("/members/").status_code == 302
        from crm.extensions import db as other_db
        other_db.session.remove()
        other_db.engine.dispose()  # psycopg warns (an error here) about connections left open


# --- Login throttling ------------------------------------------------------------------------

def _errors(response):
    return re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True))


def test_unknown_user_and_wrong_password_get_the_same_answer_and_throttle(app, client, db, at, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_ACCOUNT", 3)
    user = factories.make_user("volunteer")
    db.session.commit()
    known = [_login(client, user.username, "wrong") for _ in range(4)]
    unknown = [_login(client, "nobody-at-all", "wrong") for _ in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [200, 200, 200, 429]
    assert [_errors(r) for r in known] == [_errors(r) for r in unknown]
    # The right password is refused too while the account is throttled...
    assert _login(client, user.username).status_code == 429
    # ...and accepted once the window has passed.
    at(T0 + timedelta(minutes=31))
    assert _login(client, user.username).status_code == 302


def test_login_is_throttled_per_client_address(app, client, db, at, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_IP", 5)
    user = factories.make_user("volunteer")
    db.session.commit()
    codes = [_login(client, f"someone{i}", "wrong").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    assert _login(client, user.username).status_code == 429
    other_address = app.test_client()
    response = other_address.post("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"}, data={
        "username": user.username, "password": factories.PASSWORD, "csrf_token": csrf_token(other_address)})
    assert response.status_code == 302


def test_login_throttle_holds_across_two_app_instances(app, client, db, at, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_ACCOUNT", 2)
    user = factories.make_user("volunteer")
    db.session.commit()

    class Same(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        LOGIN_ATTEMPTS_PER_ACCOUNT = 2

    other_app = create_app(Same)
    other_app.test_client_class = FreshUserClient
    username = user.username
    assert _login(client, username, "wrong").status_code == 200
    db.session.rollback()  # this app's requests share the test's session: release its SQLite lock
    with other_app.app_context():
        other = other_app.test_client()
        assert _login(other, username, "wrong").status_code == 200
        assert _login(other, username).status_code == 429
        from crm.extensions import db as other_db
        other_db.session.remove()
        other_db.engine.dispose()  # psycopg warns (an error here) about connections left open
    assert _login(client, username).status_code == 429
