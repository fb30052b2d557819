import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.clock import today
from crm.members import services
from crm.members.models import MemberStatus, NoteKind
from tests import factories


def test_the_audit_log_is_append_only(db):
    user = factories.make_user("admin")
    entry = record(user, "member.view", object_type="members", object_id=1)
    db.session.commit()
    entry.action = "member.update"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "member.view"


def test_an_entry_names_actor_object_and_address(client, db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    client.get(f"/members/{member.id}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.view"))
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.ip) == (volunteer.id, "members", member.id,
                                                                             "10.1.2.3")


def test_a_refused_case_file_view_is_not_logged_as_a_view(client, db, login_as):
    login_as("volunteer")
    other = factories.make_member(owner=factories.make_user("volunteer"))
    db.session.commit()
    assert client.get(f"/members/{other.id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_every_change_to_a_member_is_audited(db):
    supervisor = factories.make_user("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    member = factories.make_member(owner=volunteer, verified=False)
    note = services.add_note(member, by=volunteer, kind=NoteKind.CALL, body="电话", contact_on=today())
    services.edit_note(note, by=volunteer, body="电话回访")
    services.verify_member(member, "realname", by=supervisor)
    services.set_status(member, MemberStatus.PAUSED, by=volunteer)
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["note.create", "note.edit", "member.verify", "member.status"]


def test_the_audit_page_pages_backwards(app, client, db, login_as, monkeypatch):
    import crm.audit.views
    monkeypatch.setattr(crm.audit.views, "PAGE", 3)
    admin = login_as("admin")
    for i in range(7):
        record(admin, "member.view", object_type="members", object_id=i + 1)
    db.session.commit()
    first = client.get("/audit/").get_data(as_text=True)
    assert first.count("<code>member.view</code>") == 3 and "Member #7" in first and "before=" in first
    older = client.get("/audit/?before=5").get_data(as_text=True)
    assert "Member #4" in older and "Member #5" not in older


@pytest.mark.parametrize("before", ["abc", "-1", "0", str(2**70), "１２"])
def test_a_strange_page_marker_never_fails(client, db, login_as, before):
    login_as("admin")
    assert client.get("/audit/", query_string={"before": before}).status_code == 200


def test_the_audit_page_as_an_htmx_fragment(client, db, login_as):
    admin = login_as("admin")
    record(admin, "member.view", object_type="members", object_id=1, note="<script>x</script>")
    db.session.commit()
    response = client.get("/audit/", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<table class="table" id="audit"')
    assert "<script>x" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize("role", ["volunteer", "supervisor", "counsellor"])
def test_only_admins_read_the_audit_log(client, db, login_as, role):
    login_as(role)
    assert client.get("/audit/").status_code == 403
