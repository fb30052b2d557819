"""Public self-registration and the supervisors' queue."""

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.intake.models import ApplicationStatus, IntakeApplication
from crm.members.models import Assignment, Member, MemberStatus, id_number_hash
from crm.privacy.models import MemberConsent
from tests import factories
from tests.intake.helpers import resident_id


def application_data(branch, **overrides) -> dict:
    data = {
        "branch_id": str(branch.id), "name": "刘晓雯", "gender": "female", "birth_date": "1995-06-12",
        "id_number": resident_id("19950612", 8), "phone": "13655556666", "wechat_id": "", "employer": "杭州公交集团",
        "union_name": "", "occupation_category": "transport", "education": "bachelor", "marital_history": "never",
        "height_cm": "162", "work_area": "杭州市/拱墅区", "home_area": "杭州市/西湖区", "self_intro": "喜欢做饭。",
        "interests": ["cooking", "hiking"], "consent_processing": "y", "consent_sharing": "y", "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(model) -> int:
    from crm.extensions import db
    return db.session.scalar(select(func.count()).select_from(model))


def _csrf(client, branch) -> str:
    import re
    page = client.get(f"/apply?branch={branch.id}").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def branch(db):
    branch = factories.make_branch()
    db.session.commit()
    return branch


def test_the_page_opens_without_login_and_preselects_the_linked_branch(client, branch):
    response = client.get(f"/apply?branch={branch.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<option selected value="{branch.id}">' in page or f'value="{branch.id}" selected' in page
    assert 'name="website"' in page and "Data processing" in page


def test_an_application_lands_in_the_queue_with_its_consents(client, db, branch):
    response = client.post("/apply", data={**application_data(branch), "csrf_token": _csrf(client, branch)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/thanks")
    application = db.session.scalar(select(IntakeApplication))
    assert (application.branch_id, application.status) == (branch.id, ApplicationStatus.PENDING)
    assert application.name == "刘晓雯"
    assert application.id_last4 == application_data(branch)["id_number"][-4:]
    assert application.id_hash == id_number_hash("test-secret", application_data(branch)["id_number"])
    consents = (application.consent_processing, application.consent_sharing, application.consent_photo)
    assert consents == (True, True, False)
    assert application.consent_versions == {"processing": "2026-11", "sharing": "2026-11"}
    assert application.duplicate_member_id is None and _count(Member) == 0
    full_id = application_data(branch)["id_number"]
    assert full_id not in str([getattr(application, c.key) for c in IntakeApplication.__table__.columns])


BAD_INPUTS = [
    ("name", "\x00刘", "control characters"),
    ("name", "刘" * 5000, "Field cannot be longer than 40 characters."),
    ("employer", "公司" * 100_000, "Field cannot be longer than 100 characters."),
    ("birth_date", "1995-02-30", "Not a valid date value."),
    ("birth_date", "2090-01-01", "The date of birth cannot be in the future."),
    ("birth_date", "2012-01-01", "Members must be between 18 and 70 years old."),
    ("id_number", "330106199506120000", "This is not a valid 18-character resident ID number."),
    ("id_number", resident_id("19900101"), "The ID number does not match the date of birth."),
    ("phone", "1234", "Enter an 11-digit mainland mobile number"),
    ("work_area", "火星/基地", "Not a valid choice."),
    ("branch_id", "987654", "Not a valid choice."),
    ("consent_processing", None, "We can only keep your application with your consent to data processing."),
    ("height_cm", "9999", "Number must be between 120 and 230."),
    ("interests", ["hacking"], "not a valid choice"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_INPUTS,
                         ids=[f"{n}-{i}" for i, (n, _v, _m) in enumerate(BAD_INPUTS)])
def test_bad_input_is_refused_beside_the_field_and_writes_nothing(client, db, branch, name, value, message):
    data = application_data(branch, **{name: value})
    response = client.post("/apply", data={**data, "csrf_token": _csrf(client, branch)})
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 422)
    assert message.lower() in page.lower()
    assert 'value="杭州公交集团"' in page or name == "employer"  # typed values kept
    assert _count(IntakeApplication) == 0 and _count(AuditEntry) == 0


def test_the_honeypot_pretends_success_and_writes_nothing(client, db, branch):
    response = client.post("/apply", data={**application_data(branch, website="http://spam.example"),
                                           "csrf_token": _csrf(client, branch)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/thanks")
    assert _count(IntakeApplication) == 0


def test_submissions_are_rate_limited_per_address(app, client, db, branch, monkeypatch):
    monkeypatch.setitem(app.config, "INTAKE_RATE_LIMIT", 3)
    token = _csrf(client, branch)
    statuses = []
    for n in range(5):
        data = application_data(branch, phone=f"1365555000{n}", id_number=resident_id("19950612", 100 + n))
        statuses.append(client.post("/apply", data={**data, "csrf_token": token}).status_code)
    assert statuses == [302, 302, 302, 429, 429]
    assert _count(IntakeApplication) == 3
    page = client.post("/apply", data={**application_data(branch), "csrf_token": token}).get_data(as_text=True)
    assert "Too many applications" in page and 'value="刘晓雯"' in page
    # Another address is not affected.
    data = application_data(branch, phone="13655550099", id_number=resident_id("19950612", 199))
    other = client.post("/apply", data={**data, "csrf_token": token}, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 302


@pytest.mark.parametrize("same", ["phone", "id_number"])
def test_a_duplicate_of_a_member_is_flagged_not_created_twice(client, db, branch, login_as, csrf, same):
    data = application_data(branch)
    existing = factories.make_member(branch=branch, phone=data["phone"] if same == "phone" else "13900009999",
                                     id_hash=id_number_hash("test-secret", data["id_number"] if same == "id_number"
                                                            else resident_id("19800101")))
    db.session.commit()
    assert client.post("/apply", data={**data, "csrf_token": _csrf(client, branch)}).status_code == 302
    application = db.session.scalar(select(IntakeApplication))
    assert application.duplicate_member_id == existing.id

    supervisor = login_as("supervisor", branch=branch)
    page = client.get(f"/intake/{application.id}").get_data(as_text=True)
    assert "Possible duplicate" in page and f"/members/{existing.id}" in page
    response = client.post(f"/intake/{application.id}/accept", data={"csrf_token": csrf(), "owner_id": ""})
    assert response.status_code == 422 and "already a member" in response.get_data(as_text=True)
    assert _count(Member) == 1
    response = client.post(f"/intake/{application.id}/reject", data={"csrf_token": csrf(), "reason": "重复报名"})
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status is ApplicationStatus.REJECTED and application.decided_by_id == supervisor.id


def _submit(client, branch, **overrides):
    assert client.post("/apply", data={**application_data(branch, **overrides),
                                       "csrf_token": _csrf(client, branch)}).status_code == 302


def test_a_supervisor_assigns_to_a_volunteer_of_the_branch(client, db, branch, login_as, csrf):
    volunteer = factories.make_user("volunteer", branch=branch)
    db.session.commit()
    _submit(client, branch)
    application = db.session.scalar(select(IntakeApplication))
    supervisor = login_as("supervisor", branch=branch)
    queue = client.get("/intake/").get_data(as_text=True)
    assert "刘晓雯" in queue
    response = client.post(f"/intake/{application.id}/accept",
                           data={"csrf_token": csrf(), "owner_id": str(volunteer.id)})
    assert response.status_code == 302
    member = db.session.scalar(select(Member))
    assert (member.owner_id, member.branch_id, member.status) == (volunteer.id, branch.id, MemberStatus.INTAKE)
    assert member.realname_verified_at is None and member.interests == ["cooking", "hiking"]
    assert (member.processing_consent, member.sharing_consent, member.photo_consent) == (True, True, False)
    consents = {c.purpose.value: (c.given, c.channel.value, c.recorded_by_id)
                for c in db.session.scalars(select(MemberConsent).where(MemberConsent.member_id == member.id))}
    assert consents == {"processing": (True, "self_registration", None), "sharing": (True, "self_registration", None),
                        "photo": (False, "self_registration", None)}
    assignment = db.session.scalar(select(Assignment))
    assert (assignment.member_id, assignment.to_user_id, assignment.by_id) == (member.id, volunteer.id, supervisor.id)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"intake.apply", "intake.accept", "member.create", "consent.give"} <= actions
    db.session.expire_all()
    assert application.status is ApplicationStatus.ACCEPTED and application.member_id == member.id
    # Decided: a second accept changes nothing.
    again = client.post(f"/intake/{application.id}/accept", data={"csrf_token": csrf(), "owner_id": ""})
    assert again.status_code == 422 and _count(Member) == 1


def test_left_in_the_pool_and_rejection_needs_a_reason(client, db, branch, login_as, csrf):
    _submit(client, branch)
    _submit(client, branch, phone="13655557777", id_number=resident_id("19950612", 9))
    first, second = db.session.scalars(select(IntakeApplication).order_by(IntakeApplication.id))
    login_as("supervisor", branch=branch)
    assert client.post(f"/intake/{first.id}/accept", data={"csrf_token": csrf(), "owner_id": ""}).status_code == 302
    member = db.session.scalar(select(Member))
    assert member.owner_id is None and member.branch_id == branch.id and _count(Assignment) == 0
    response = client.post(f"/intake/{second.id}/reject", data={"csrf_token": csrf(), "reason": ""})
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    db.session.expire_all()
    assert second.status is ApplicationStatus.PENDING


def test_other_branches_and_volunteers_cannot_see_an_application(client, db, branch, login_as, csrf):
    _submit(client, branch)
    application = db.session.scalar(select(IntakeApplication))
    outsider_volunteer = factories.make_user("volunteer", branch=branch)
    login_as("supervisor")  # of another branch
    assert client.get(f"/intake/{application.id}").status_code == 404
    assert "刘晓雯" not in client.get("/intake/").get_data(as_text=True)
    response = client.post(f"/intake/{application.id}/accept",
                           data={"csrf_token": csrf(), "owner_id": str(outsider_volunteer.id)})
    assert response.status_code == 404 and _count(Member) == 0


def test_a_decision_taken_meanwhile_wins_and_the_late_one_writes_nothing(client, db, branch):
    from sqlalchemy.orm.attributes import set_committed_value

    from crm.errors import Refusal
    from crm.extensions import db as _db
    from crm.intake import services
    _submit(client, branch)
    application = db.session.scalar(select(IntakeApplication))
    supervisor = factories.make_user("supervisor", branch=branch)
    other = factories.make_user("supervisor", branch=branch)
    db.session.commit()
    # Another supervisor rejects it between this one loading the page and pressing accept.
    _db.session.execute(IntakeApplication.__table__.update().values(status="rejected", reject_reason="重复",
                                                                      decided_by_id=other.id))
    db.session.commit()
    # This supervisor's copy still says pending (loaded before the other decision).
    set_committed_value(application, "status", ApplicationStatus.PENDING)
    with pytest.raises(Refusal):
        services.accept_application(application, by=supervisor)
    db.session.rollback()
    assert _count(Member) == 0
    db.session.expire_all()
    assert application.status is ApplicationStatus.REJECTED and application.decided_by_id == other.id


def test_applying_twice_links_the_applications(client, db, branch, login_as):
    _submit(client, branch)
    _submit(client, branch, name="刘晓雯", employer="杭州公交集团二公司")
    first, second = db.session.scalars(select(IntakeApplication).order_by(IntakeApplication.id))
    login_as("supervisor", branch=branch)
    page = client.get(f"/intake/{second.id}").get_data(as_text=True)
    assert "sent other applications" in page and f"/intake/{first.id}" in page
