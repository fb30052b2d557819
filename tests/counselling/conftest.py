import pytest
from flask import g
from flask.testing import FlaskClient

from tests.counselling.helpers import CounsellingWorld


@pytest.fixture
def world(db):
    w = CounsellingWorld()
    db.session.commit()
    return w


@pytest.fixture
def sign_in(app):
    """sign_in(user) -> a test client of its own, signed in as ``user`` (several people in one test).

    Requests share the test's app context, so ``g`` (Flask-Login's current user, Flask-WTF's token)
    would carry over from one client's request to the next: each request starts with an empty ``g``.
    """
    from tests.conftest import csrf_token
    from tests.factories import PASSWORD

    class Client(FlaskClient):
        def open(self, *args, **kwargs):
            g.__dict__.clear()
            return super().open(*args, **kwargs)

    def token(client):
        return csrf_token(client)

    def make(user):
        client = Client(app, app.response_class, use_cookies=True)
        response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                               "csrf_token": token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        client.token = token(client)
        return client

    return make
