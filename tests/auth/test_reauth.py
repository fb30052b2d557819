"""crm.auth.reauth: a fresh password entry before sensitive actions."""

from datetime import datetime, timedelta

import pytest
from flask_login import current_user

from crm import clock, create_app
from crm.auth import policy
from crm.auth.reauth import password_confirmation_required, password_recently_confirmed
from crm.config import TestConfig
from tests import factories
from tests.conftest import FreshUserClient, csrf_token

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def sensitive_app(app, db, monkeypatch):
    """A second app on the same database with a page and an action behind the decorator."""
    class Same(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    other = create_app(Same)
    other.test_client_class = FreshUserClient

    @other.route("/sensitive", methods=["GET", "POST"], endpoint="sensitive")
    @password_confirmation_required
    def sensitive():
        return f"revealed {current_user.id} {password_recently_confirmed()}"

    monkeypatch.setitem(policy.ROUTE_ACCESS, "sensitive", policy.STAFF)
    monkeypatch.setattr(clock, "now_utc", lambda: T0)
    with other.app_context():
        yield other
        from crm.extensions import db as other_db
        other_db.session.remove()
        other_db.engine.dispose()  # psycopg warns (an error here) about connections left open


def _signed_in(app):
    client = app.test_client()
    user = factories.make_user("volunteer")
    from crm.extensions import db
    db.session.commit()
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD,
                                "csrf_token": csrf_token(client)})
    return client, user


def test_get_goes_to_the_confirmation_page_and_comes_back(sensitive_app):
    client, user = _signed_in(sensitive_app)
    response = client.get("/sensitive?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/confirm-password?next=/sensitive?x%3D1"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    wrong = client.post("/confirm-password", data={"password": "nope", "next": "/sensitive?x=1",
                                                   "csrf_token": csrf_token(client)})
    assert wrong.status_code == 422
    ok = client.post("/confirm-password", data={"password": factories.PASSWORD, "next": "/sensitive?x=1",
                                                "csrf_token": csrf_token(client)})
    assert ok.status_code == 302 and ok.headers["Location"] == "/sensitive?x=1"
    assert client.get("/sensitive").get_data(as_text=True) == f"revealed {user.id} True"


def test_confirmation_expires(sensitive_app, monkeypatch):
    client, _user = _signed_in(sensitive_app)
    client.post("/confirm-password", data={"password": factories.PASSWORD, "csrf_token": csrf_token(client)})
    assert client.get("/sensitive").status_code == 200
    monkeypatch.setattr(clock, "now_utc", lambda: T0 + timedelta(minutes=6))
    assert client.get("/sensitive").status_code == 302


def test_a_post_without_confirmation_does_nothing_and_goes_to_confirm(sensitive_app):
    client, _user = _signed_in(sensitive_app)
    response = client.post("/sensitive", data={"csrf_token": csrf_token(client)},
                           headers={"Referer": "http://localhost/members/3"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/confirm-password?next=/members/3"
    htmx = client.post("/sensitive", data={"csrf_token": csrf_token(client)}, headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/confirm-password")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_next_must_be_a_local_path(sensitive_app, target):
    client, _user = _signed_in(sensitive_app)
    response = client.post("/confirm-password", data={"password": factories.PASSWORD, "next": target,
                                                      "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_wrong_passwords_are_throttled_and_audited(sensitive_app):
    from sqlalchemy import select

    from crm.audit.models import AuditEntry
    from crm.extensions import db
    client, user = _signed_in(sensitive_app)
    codes = [client.post("/confirm-password", data={"password": "nope", "csrf_token": csrf_token(client)}).status_code
             for _ in range(6)]
    assert codes == [422] * 5 + [429]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == user.id)).all()
    assert actions.count("auth.password_confirm_failed") == 5
