"""Errors and logs: an incident id instead of a traceback, redacted digits, denials logged."""

import logging

import pytest

from crm import create_app, incidents
from crm.auth import policy
from crm.config import TestConfig
from tests.conftest import FreshUserClient

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
NOTE_TEXT = "她说过去的婚姻很痛苦"


@pytest.fixture
def failing_app(app, db, monkeypatch):
    """An app whose test route fails with personal data in the exception and the form."""
    class Same(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        PROPAGATE_EXCEPTIONS = False

    other = create_app(Same)
    other.test_client_class = FreshUserClient

    @other.route("/boom", methods=["GET", "POST"], endpoint="boom")
    def boom():
        secret = other.config["SECRET_KEY"]
        raise RuntimeError(f"cannot save {ID_NUMBER} phone {PHONE} note {NOTE_TEXT} key {secret}")

    from crm.extensions import csrf
    csrf.exempt(boom)
    monkeypatch.setitem(policy.ROUTE_ACCESS, "boom", policy.PUBLIC)
    with other.app_context():
        yield other
        from crm.extensions import db as other_db
        other_db.session.remove()
        other_db.engine.dispose()  # psycopg warns (an error here) about connections left open


def _everything_logged(caplog):
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


def test_an_internal_error_shows_an_incident_id_and_logs_the_traceback_redacted(failing_app, caplog):
    caplog.set_level(logging.INFO)
    client = failing_app.test_client()
    response = client.post("/boom", data={"note": NOTE_TEXT, "phone": PHONE})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    incident = response.headers["X-Incident-Id"]
    assert incident in body
    for leak in (ID_NUMBER, PHONE, NOTE_TEXT, "Traceback", "RuntimeError", "test-secret"):
        assert leak not in body
    logged = _everything_logged(caplog)
    assert f"incident {incident}" in logged and "Traceback" in logged and "RuntimeError" in logged
    for leak in (ID_NUMBER, PHONE, NOTE_TEXT, "test-secret"):
        assert leak not in logged


def test_htmx_gets_the_incident_id_as_text(failing_app):
    response = failing_app.test_client().get("/boom", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert response.headers["X-Incident-Id"] in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("text", "expected"), [
    (f"id {ID_NUMBER} end", "id [redacted] end"),
    ("id 110105 19491231 002X", "id [redacted]"),
    ("old id 110105491231002", "old id [redacted]"),
    (f"call {PHONE}", "call [redacted]"),
    ("call +86 138-1234-5678 now", "call [redacted] now"),
    ("landline 010-62345678", "landline 010-[redacted]"),
    ("member 42 on page 3", "member 42 on page 3"),
    ("GET /members/123456 200", "GET /members/123456 200"),
    ("revision 04f94499144a", "revision 04f94499144a"),
    ("会员手机13812345678已登记", "会员手机[redacted]已登记"),
])
def test_redaction(text, expected):
    assert incidents.redact(text) == expected


def test_records_of_any_logger_are_redacted(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").warning("failed for %s and %s", PHONE, ID_NUMBER)
    assert caplog.records[-1].getMessage() == "failed for [redacted] and [redacted]"
    try:
        raise ValueError(f"row {PHONE} refused")
    except ValueError:
        logging.getLogger("some.library").exception("while saving")
    text = logging.Formatter().format(caplog.records[-1])
    assert "ValueError" in text and PHONE not in text and f"row {PHONE} refused" not in text


def test_a_denied_request_is_logged_without_personal_data(client, db, login_as, caplog):
    caplog.set_level(logging.INFO)
    user = login_as("volunteer")
    response = client.get("/audit/")
    assert response.status_code == 403
    denied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("denied")]
    assert denied == [f"denied GET audit.index status=403 user={user.id}"]


def test_incident_ids_survive_the_redaction_of_their_own_log_line():
    # One hex id in 43 is all digits; 2,000 draws meet one with near certainty (1 - (42/43)^2000).
    ids = [incidents.new_incident_id() for _ in range(2000)]
    assert all(len(i) == 8 and incidents.redact(f"incident {i}:") == f"incident {i}:" for i in ids)
