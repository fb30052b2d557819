"""The case file masks the phone; the full number needs a fresh password entry and is audited."""

from sqlalchemy import select

from crm.audit.models import AuditEntry
from tests import dbstate, factories
from tests.conftest import csrf_token


def test_the_case_file_masks_the_phone(client, db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, phone="13812345678")
    db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "13812345678" not in page and "138****5678" in page
    assert f"/members/{member.id}/phone" in page


def test_showing_the_full_number_needs_a_fresh_password_and_is_audited(client, db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, phone="13812345678")
    db.session.commit()
    first = client.get(f"/members/{member.id}/phone")
    assert first.status_code == 302
    assert first.headers["Location"] == f"/confirm-password?next=/members/{member.id}/phone"
    htmx = client.get(f"/members/{member.id}/phone", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/confirm-password")
    assert "13812345678" not in htmx.get_data(as_text=True)
    client.post("/confirm-password", data={"password": factories.PASSWORD, "csrf_token": csrf_token(client),
                                           "next": f"/members/{member.id}/phone"})
    page = client.get(f"/members/{member.id}/phone")
    assert page.status_code == 200 and "13812345678" in page.get_data(as_text=True)
    fragment = client.get(f"/members/{member.id}/phone", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "13812345678" in fragment and "<html" not in fragment
    reveals = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.reveal_phone")).all()
    assert len(reveals) == 2 and {r.object_id for r in reveals} == {member.id}
    assert all(r.actor_id == volunteer.id for r in reveals)


def test_someone_elses_member_is_refused_before_any_password_prompt(client, db, login_as):
    login_as("volunteer")
    other = factories.make_member(owner=factories.make_user("volunteer"), phone="13812345678")
    db.session.commit()
    before = dbstate.contents()
    response = client.get(f"/members/{other.id}/phone")
    assert response.status_code == 404 and "13812345678" not in response.get_data(as_text=True)
    assert dbstate.contents() == before
