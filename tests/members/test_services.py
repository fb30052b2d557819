import re

import pytest
from sqlalchemy import func, select, update

from crm.audit.models import AuditEntry
from crm.errors import Refusal
from crm.members import services
from crm.members.models import Assignment, CloseReason, Member, MemberStatus, Note, NoteRevision
from tests import dbstate, factories
from tests.i18n import msg, text


def stale_message():
    return msg("Someone else saved this record after you opened it. Reload to see their changes, "
               "then make yours again.")


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def team(db):
    """A supervisor's branch with two volunteers, and another branch with its own volunteer."""
    branch, other_branch = factories.make_branch(), factories.make_branch()
    people = {
        "supervisor": factories.make_user("supervisor", branch=branch),
        "old": factories.make_user("volunteer", branch=branch),
        "new": factories.make_user("volunteer", branch=branch),
        "outsider": factories.make_user("volunteer", branch=other_branch),
        "admin": factories.make_user("admin", branch=other_branch),
    }
    db.session.commit()
    return people


def test_reassigning_is_all_or_nothing(db, team):
    ours = [factories.make_member(owner=team["old"]) for _ in range(2)]
    theirs = factories.make_member(owner=team["outsider"])
    db.session.commit()
    before = dbstate.contents()
    with pytest.raises(Refusal) as refused:
        services.reassign_members([*ours, theirs], team["new"], by=team["supervisor"], reason="调整")
    assert refused.value.field == "member_ids"
    db.session.rollback()
    assert dbstate.contents() == before
    assert _count(db, Assignment) == 0


@pytest.mark.parametrize("target", ["outsider", "supervisor", "inactive"])
def test_cases_go_only_to_an_active_volunteer_the_reassigner_manages(db, team, target):
    if target == "inactive":
        team["new"].is_active_user = False
        target = "new"
    member = factories.make_member(owner=team["old"])
    db.session.commit()
    with pytest.raises(Refusal) as refused:
        services.reassign_members([member], team[target], by=team["supervisor"], reason="调整")
    assert refused.value.field == "to_user_id"
    assert member.owner_id == team["old"].id and _count(db, Assignment) == 0


def test_an_empty_selection_is_refused(db, team):
    with pytest.raises(Refusal):
        services.reassign_members([], team["new"], by=team["supervisor"], reason="调整")


def test_reassigning_writes_history_and_audit_and_keeps_the_notes(db, team):
    members = [factories.make_member(owner=team["old"]) for _ in range(3)]
    for member in members:
        for i in range(3):
            factories.make_note(member, team["old"], body=f"记录{member.id}-{i}")
    db.session.commit()
    notes_before = db.session.execute(select(Note.id, Note.member_id, Note.author_id, Note.body)).all()

    moved = services.reassign_members(members, team["new"], by=team["supervisor"], reason="志愿者调岗")
    db.session.commit()

    assert moved == 3
    assert {m.owner_id for m in db.session.scalars(select(Member))} == {team["new"].id}
    history = db.session.scalars(select(Assignment)).all()
    assert sorted(a.member_id for a in history) == sorted(m.id for m in members)
    for a in history:
        assert (a.from_user_id, a.to_user_id, a.by_id, a.reason) == (
            team["old"].id, team["new"].id, team["supervisor"].id, "志愿者调岗")
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.reassign")).all()
    assert sorted(e.object_id for e in audit) == sorted(m.id for m in members)
    assert all(e.actor_id == team["supervisor"].id and e.detail["to_user"] == team["new"].id for e in audit)
    assert db.session.execute(select(Note.id, Note.member_id, Note.author_id, Note.body)).all() == notes_before


def test_reassigning_to_the_current_owner_changes_nothing(db, team):
    member = factories.make_member(owner=team["new"])
    db.session.commit()
    assert services.reassign_members([member], team["new"], by=team["supervisor"], reason="重复") == 0
    assert _count(db, Assignment) == 0


def test_the_new_volunteer_sees_the_member_and_the_old_one_no_longer_does(client, db, team, login_as, csrf):
    member = factories.make_member(owner=team["old"])
    db.session.commit()
    login_as(team["supervisor"])
    response = client.post(f"/members/{member.id}/reassign",
                           data={"to_user_id": str(team["new"].id), "reason": "调岗", "csrf_token": csrf(),
                                 "from_owner": str(team["old"].id)})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(team["new"])
    assert client.get(f"/members/{member.id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(team["old"])
    assert client.get(f"/members/{member.id}").status_code == 404


def test_an_admin_reassigning_across_branches_moves_the_case_to_the_new_branch(db, team):
    member = factories.make_member(owner=team["old"])
    db.session.commit()
    services.reassign_members([member], team["outsider"], by=team["admin"], reason="搬家")
    db.session.commit()
    assert member.owner_id == team["outsider"].id
    assert member.branch_id == team["outsider"].branch_id  # the new branch's supervisor manages it now


# --- Verification and status ----------------------------------------------------------------

def test_a_member_becomes_active_only_with_all_three_checks_and_consent(db, team):
    member = factories.make_member(owner=team["old"], verified=False)
    for check in ("consent", "realname", "employer"):
        services.verify_member(member, check, by=team["supervisor"])
        assert member.status is MemberStatus.INTAKE
    services.verify_member(member, "pledge", by=team["supervisor"])
    assert member.status is MemberStatus.ACTIVE
    assert member.pledge_recorded_by_id == team["supervisor"].id and member.pledge_signed_at is not None
    db.session.commit()
    checks = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "member.verify")).all()
    assert sorted(d["check"] for d in checks) == ["consent", "employer", "pledge", "realname"]


def test_verification_without_consent_leaves_the_member_in_intake(db, team):
    member = factories.make_member(owner=team["old"], verified=False)
    for check in ("realname", "employer", "pledge"):
        services.verify_member(member, check, by=team["supervisor"])
    assert member.is_verified and member.status is MemberStatus.INTAKE


def test_a_paused_member_is_not_activated_by_verification(db, team):
    member = factories.make_member(owner=team["old"], verified=False, status=MemberStatus.PAUSED)
    for check in services.VERIFICATION_CHECKS:
        services.verify_member(member, check, by=team["supervisor"])
    assert member.status is MemberStatus.PAUSED


@pytest.mark.parametrize("check", ["realname", "nonsense", ""])
def test_a_repeated_or_unknown_check_is_refused(db, team, check):
    member = factories.make_member(owner=team["old"])
    with pytest.raises(Refusal):
        services.verify_member(member, check, by=team["supervisor"])


def test_set_status_refuses_active_when_unverified_and_a_relationship_by_hand(db, team):
    member = factories.make_member(owner=team["old"], verified=False)
    with pytest.raises(Refusal, match=re.escape(text(
            "A member becomes active only when all three checks and the consent are recorded."))):
        services.set_status(member, MemberStatus.ACTIVE, by=team["old"])
    verified = factories.make_member(owner=team["old"])
    with pytest.raises(Refusal, match=re.escape(text("A relationship is recorded through the pairing, not by hand."))):
        services.set_status(verified, MemberStatus.IN_RELATIONSHIP, by=team["old"])
    assert member.status is MemberStatus.INTAKE and verified.status is MemberStatus.ACTIVE


def test_closing_keeps_the_reason_and_reopening_clears_it(db, team):
    member = factories.make_member(owner=team["old"])
    services.set_status(member, MemberStatus.CLOSED, by=team["old"], close_reason=CloseReason.MARRIED)
    assert member.close_reason is CloseReason.MARRIED
    services.set_status(member, MemberStatus.ACTIVE, by=team["old"])
    assert member.status is MemberStatus.ACTIVE and member.close_reason is None


def test_closing_without_a_reason_is_refused_beside_the_field(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    before = dbstate.contents()
    response = client.post(f"/members/{member.id}/status", data={
        "status": "closed", "close_reason": "", "version": str(member.version), "csrf_token": csrf()})
    assert response.status_code == 422
    assert 'id="close_reason-error"' in response.get_data(as_text=True)
    assert dbstate.contents() == before


# --- Notes ----------------------------------------------------------------------------------

def test_editing_a_note_keeps_the_earlier_text(db, team):
    member = factories.make_member(owner=team["old"])
    note = factories.make_note(member, team["old"], body="第一次记录")
    assert services.edit_note(note, by=team["old"], body="更正后的记录")
    db.session.commit()
    revision = db.session.scalar(select(NoteRevision))
    assert revision.body == "第一次记录" and revision.replaced_by_id == team["old"].id
    assert note.body == "更正后的记录" and note.edited_at is not None
    assert not services.edit_note(note, by=team["old"], body="更正后的记录")  # nothing changed, nothing kept
    assert _count(db, NoteRevision) == 1


def test_a_stale_note_correction_is_refused(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    note = factories.make_note(member, volunteer, body="原文")
    db.session.commit()
    url = f"/members/{member.id}/notes/{note.id}"
    first = client.post(url, data={"body": "第一次更正", "version": "1", "csrf_token": csrf()})
    assert first.status_code == 302
    before = dbstate.contents()
    stale = client.post(url, data={"body": "基于旧版本的更正", "version": "1", "csrf_token": csrf()})
    assert stale.status_code == 409  # the conflict page with both texts (tests/integrity/test_edit_conflicts.py)
    assert dbstate.contents() == before
    page = stale.get_data(as_text=True)
    assert "基于旧版本的更正" in page and "第一次更正" in page
    db.session.expire_all()
    assert db.session.get(Note, note.id).body == "第一次更正"


def test_a_note_correction_by_htmx_or_form_never_loses_text_when_invalid(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    note = factories.make_note(member, volunteer, body="原文")
    db.session.commit()
    before = dbstate.contents()
    response = client.post(f"/members/{member.id}/notes/{note.id}",
                           data={"body": "   ", "version": "1", "csrf_token": csrf()})
    assert response.status_code == 302
    assert dbstate.contents() == before


# --- Stale profile edits --------------------------------------------------------------------

def test_a_stale_profile_edit_is_refused_with_a_clear_message(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, employer="旧单位")
    db.session.commit()
    page = client.get(f"/members/{member.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    # Someone else saves in the meantime.
    db.session.execute(update(Member).where(Member.id == member.id).values(employer="别人改的单位",
                                                                           version=Member.version + 1))
    db.session.commit()
    before = dbstate.contents()

    response = client.post(f"/members/{member.id}/edit", data={
        **factories.member_form_data(employer="我改的单位", id_number=""), "version": version, "csrf_token": csrf()})

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert stale_message() in page
    assert "我改的单位" in page  # the user's typing is not lost
    assert dbstate.contents() == before
    db.session.expire_all()
    assert db.session.get(Member, member.id).employer == "别人改的单位"


def test_a_current_profile_edit_is_saved_and_audited_by_field_name_only(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, employer="旧单位")
    db.session.commit()
    response = client.post(f"/members/{member.id}/edit", data={
        **factories.member_form_data(employer="新单位", id_number=""), "version": str(member.version),
        "csrf_token": csrf()})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Member, member.id)
    assert saved.employer == "新单位" and saved.version == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.update"))
    assert "employer" in entry.detail["fields"] and "新单位" not in str(entry.detail)


def test_a_stale_status_change_is_refused(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    db.session.execute(update(Member).where(Member.id == member.id).values(version=Member.version + 1))
    db.session.commit()
    before = dbstate.contents()
    response = client.post(f"/members/{member.id}/status", data={
        "status": "paused", "close_reason": "", "version": "1", "csrf_token": csrf()})
    assert response.status_code == 422 and stale_message() in response.get_data(as_text=True)
    assert dbstate.contents() == before


def test_a_volunteer_records_consent_but_not_the_three_checks(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, verified=False)
    db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert page.count('name="check"') == 1 and 'value="consent"' in page
    assert page.count(msg("Awaiting a supervisor")) == 3
    before = dbstate.contents()
    refused = client.post(f"/members/{member.id}/verify", data={"check": "realname", "csrf_token": csrf()})
    assert refused.status_code == 403
    assert dbstate.contents() == before
    recorded = client.post(f"/members/{member.id}/verify", data={"check": "consent", "csrf_token": csrf()})
    assert recorded.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Member, member.id)
    assert saved.consent_at is not None and saved.consent_recorded_by_id == volunteer.id
    assert saved.realname_verified_at is None


def test_an_admin_creating_a_case_for_another_branchs_volunteer_puts_it_in_that_branch(client, db, login_as, csrf):
    admin = login_as("admin")
    volunteer = factories.make_user("volunteer")
    db.session.commit()
    response = client.post("/members/new", data={**factories.member_form_data(), "owner_id": str(volunteer.id),
                                                 "csrf_token": csrf()})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    member = db.session.scalar(select(Member))
    assert member.owner_id == volunteer.id
    assert member.branch_id == volunteer.branch_id != admin.branch_id
    history = db.session.scalar(select(Assignment))
    assert (history.to_user_id, history.by_id) == (volunteer.id, admin.id)


def test_the_last_contact_is_when_the_contact_happened(db, team):
    from datetime import datetime, timedelta

    from crm.clock import today
    from crm.members.models import NoteKind
    member = factories.make_member(owner=team["old"])
    last_week = today() - timedelta(days=7)
    services.add_note(member, by=team["old"], kind=NoteKind.CALL, body="上周的电话", contact_on=last_week)
    assert member.last_contact_at == datetime.combine(last_week, datetime.min.time())
    services.add_note(member, by=team["old"], kind=NoteKind.CALL, body="今天见面", contact_on=today())
    assert member.last_contact_at.date() == today()
    services.add_note(member, by=team["old"], kind=NoteKind.CALL, body="补记一个月前的电话",
                      contact_on=today() - timedelta(days=30))
    assert member.last_contact_at.date() == today()  # an older contact entered late does not move it back


def test_reassignment_has_its_own_page_and_keeps_typed_text_on_error(client, login_as, db, csrf):
    supervisor = login_as("supervisor")
    old = factories.make_user("volunteer", branch=supervisor.branch)
    member = factories.make_member(owner=old)
    db.session.commit()
    page = client.get(f"/members/{member.id}/reassign")
    assert page.status_code == 200 and old.display_name in page.get_data(as_text=True)
    refused = client.post(f"/members/{member.id}/reassign",
                          data={"to_user_id": "", "reason": "换人跟进", "csrf_token": csrf()})
    assert refused.status_code == 422 and "换人跟进" in refused.get_data(as_text=True)
    assert db.session.get(Member, member.id).owner_id == old.id
