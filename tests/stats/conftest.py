import pytest


@pytest.fixture
def ctx(app, db):
    """A request context, for calling services directly (messages are translated lazily)."""
    with app.test_request_context():
        yield
