from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.members.models import Member, Note
from tests import factories
from tests.i18n import msg


def test_volunteer_creates_a_member_and_owns_it(client, login_as, db, csrf):
    volunteer = login_as("volunteer")
    response = client.post("/members/new", data={**factories.member_form_data(), "csrf_token": csrf(),
                                                 "owner_id": str(volunteer.id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    member = db.session.scalar(select(Member))
    assert member.owner_id == volunteer.id
    assert member.name_pinyin == "wangyue" and member.name_initials == "wy"
    assert member.id_last4 == "0027" and len(member.id_hash) == 64
    assert member.interests == ["reading", "hiking"]


def test_invalid_member_form_keeps_typed_values_and_writes_nothing(client, login_as, db, csrf):
    login_as("volunteer")
    data = {**factories.member_form_data(phone="12345", name="王悦😀"), "csrf_token": csrf()}
    response = client.post("/members/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert msg("Enter an 11-digit mainland mobile number, such as 13812345678.") in page
    assert 'value="杭州市第二中学"' in page
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_adding_a_note_by_htmx_returns_the_notes_fragment(client, login_as, db, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    response = client.post(f"/members/{member.id}/notes", headers={"HX-Request": "true"},
                           data={"kind": "call", "contact_on": "2026-11-20", "body": "约好周六见面",
                                 "csrf_token": csrf()})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "约好周六见面" in body and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert db.session.scalar(select(func.count()).select_from(Note)) == 1


def test_viewing_a_case_file_is_audited(client, login_as, db):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    assert client.get(f"/members/{member.id}").status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.view"))
    assert entry.object_id == member.id and entry.actor_id == volunteer.id


def test_another_volunteers_member_is_not_found(client, login_as, db):
    login_as("volunteer")
    other = factories.make_member(owner=factories.make_user("volunteer"))
    db.session.commit()
    response = client.get(f"/members/{other.id}")
    assert response.status_code == 404
    assert other.name not in response.get_data(as_text=True)
