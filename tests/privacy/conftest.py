import pytest

from crm.matching import service as matching


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    """Each test stores photos in its own empty folder."""
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def fresh_index():
    matching.reset()
    yield
    matching.reset()


@pytest.fixture
def confirmed(client):
    """Marks the client's session as having re-entered the password just now."""
    from crm.auth import reauth

    def confirm(user):
        with client.session_transaction() as session:
            session[reauth._SESSION_KEY] = [user.id, reauth._now()]
    return confirm
