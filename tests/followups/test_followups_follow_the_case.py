"""A follow-up never waits with someone who lost the case, or on a case or an introduction that has ended."""

from datetime import timedelta

from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.clock import today
from crm.counselling import services as counselling
from crm.counselling.models import Referral, Risk, RiskAlert, SessionMode, Topic
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.followups.services import create_followup
from crm.members import services as members
from crm.members.models import CloseReason, MemberStatus
from crm.pairings import pipeline, services
from crm.pairings.models import PairingCloseReason, Stage
from tests.counselling.helpers import CounsellingWorld
from tests.factories import make_member, make_user
from tests.pairings.helpers import both_yes, proposed


def _open(**where):
    return list(db.session.scalars(select(FollowUp).filter_by(done_at=None, **where).order_by(FollowUp.id)))


def _followup(assignee, member, kind=FollowUpKind.OTHER, **kw):
    return create_followup(assignee=assignee, member=member, due_on=today() + timedelta(days=3), kind=kind,
                           by=assignee, **kw)


def test_a_reassigned_case_takes_its_open_followups_to_the_new_owner(db, ctx):
    old_owner = make_user("volunteer")
    new_owner = make_user("volunteer", branch=old_owner.branch)
    supervisor = make_user("supervisor", branch=old_owner.branch)
    member = make_member(owner=old_owner)
    call = _followup(old_owner, member, title="问问近况")
    done = _followup(old_owner, member, title="已完成的")
    done.done_at, done.outcome = done.created_at, "已联系"
    supervisors_own = _followup(supervisor, member, title="主管自己的")

    members.reassign_members([member], new_owner, by=supervisor, reason="工作调整")

    assert call.assignee_id == new_owner.id
    assert done.assignee_id == old_owner.id and supervisors_own.assignee_id == supervisor.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "followup.hand_over",
                                                      AuditEntry.object_id == call.id)).detail == {
        "from_user": old_owner.id, "to_user": new_owner.id}


def test_each_move_ends_the_followups_of_the_stage_before_and_closing_ends_them_all(db, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    check_ins = _open(pairing_id=pairing.id)
    assert {f.kind for f in check_ins} == {FollowUpKind.CHECK_IN} and len(check_ins) == 2

    pipeline.move(pairing, Stage.FIRST_MEETING, vol_a)  # they met before the check-in was due
    assert all(f.done_at is not None and f.outcome == "The introduction moved on to “First meeting”."
               for f in check_ins)
    assert {(f.kind, f.assignee_id) for f in _open(pairing_id=pairing.id)} == {
        (FollowUpKind.AFTER_MEETING, vol_a.id), (FollowUpKind.AFTER_MEETING, vol_b.id)}

    pipeline.move(pairing, Stage.CLOSED, vol_b, close_reason=PairingCloseReason.NO_CHEMISTRY)
    assert _open(pairing_id=pairing.id) == []
    assert {f.outcome for f in db.session.scalars(select(FollowUp).where(
        FollowUp.pairing_id == pairing.id, FollowUp.kind == FollowUpKind.AFTER_MEETING))} == {
        "The introduction was closed."}


def test_a_wedding_closes_the_couples_other_introductions_and_ends_their_followups(db, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    other = make_member(owner=make_user("volunteer", branch=vol_a.branch), gender=b.gender)
    waiting = services.propose_pairing(a, other, vol_a)
    assert waiting.stage is Stage.AWAITING_CONSENT
    both_yes(pairing, vol_a, vol_b, a, b)
    _followup(vol_a, a, title="婚礼前再联系")

    pipeline.move(pairing, Stage.MARRIED, vol_b)

    assert a.status is b.status is MemberStatus.CLOSED and a.close_reason is CloseReason.MARRIED
    assert waiting.stage is Stage.CLOSED and waiting.close_reason is PairingCloseReason.ENDED_BY_MEMBER
    assert waiting.history[-1].note == "Closed with a member's case file."  # says nothing of a wedding
    assert other.status is MemberStatus.ACTIVE
    assert _open(member_id=a.id) == [] and _open(member_id=b.id) == []
    assert services.waiting_for(other.owner) == []  # nothing left to ask the other member


def test_closing_a_case_by_hand_closes_its_introductions_on_the_way_and_keeps_counsellings_followups(db, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    counsellor = make_user("counsellor", branch=vol_a.branch)
    session_followup = _followup(counsellor, a, kind=FollowUpKind.COUNSELLING)
    call = _followup(vol_a, a, title="问问近况")

    members.set_status(a, MemberStatus.CLOSED, by=vol_a, close_reason=CloseReason.WITHDREW)

    assert pairing.stage is Stage.CLOSED and pairing.close_reason is PairingCloseReason.ENDED_BY_MEMBER
    assert call.done_at is not None and call.outcome == "The case file was closed."
    assert session_followup.done_at is None  # it ends with the referral, not with the case file
    assert b.status is MemberStatus.ACTIVE


def test_a_couple_in_a_relationship_keeps_it_when_one_case_file_closes(db, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    pipeline.move(pairing, Stage.RELATIONSHIP, vol_a)

    members.set_status(a, MemberStatus.CLOSED, by=vol_a, close_reason=CloseReason.MOVED_AWAY)

    assert pairing.stage is Stage.RELATIONSHIP and b.status is MemberStatus.IN_RELATIONSHIP
    assert [f.assignee_id for f in _open(pairing_id=pairing.id)] == [vol_b.id]  # only the open side's follow-up


def _session(world, next_on):
    return counselling.log_session(world.referral, by=world.author, held_on=today(), duration_minutes=50,
                                   mode=SessionMode.IN_PERSON, topic=Topic.RELATIONSHIP, confidential_notes="……",
                                   shareable_summary=None, next_session_on=next_on, risk=Risk.NONE)


def test_a_planned_session_goes_to_the_new_counsellor_and_ends_with_the_referral(db, ctx):
    world = CounsellingWorld()
    _session(world, today() + timedelta(days=14))
    planned = _open(member_id=world.member.id, kind=FollowUpKind.COUNSELLING)
    assert [f.assignee_id for f in planned] == [world.author.id]

    counselling.assign_referral(world.referral, world.other_counsellor, by=world.supervisor)
    assert planned[0].assignee_id == world.other_counsellor.id

    counselling.close_referral(world.referral, by=world.other_counsellor, outcome="会员状态稳定")
    assert planned[0].done_at is not None and planned[0].outcome == "The referral was closed."


def test_a_case_moved_to_another_branch_takes_its_referral_and_risk_alert_along(db, ctx):
    world = CounsellingWorld()
    alert_followups = list(world.alert.followups)
    world.alert.followups.extend(
        [create_followup(assignee=world.supervisor, member=world.member, due_on=today(), by=world.author,
                         kind=FollowUpKind.RISK_ALERT)])
    far_volunteer = make_user("volunteer", branch=world.other_branch)

    members.reassign_members([world.member, world.queued_member], far_volunteer, by=world.admin, reason="调动")

    assert world.referral.branch_id == world.queued.branch_id == world.other_branch.id
    assert world.referral.counsellor_id == world.author.id  # counselling goes on with the same counsellor
    alert = db.session.get(RiskAlert, world.alert.id)
    assert alert.branch_id == world.other_branch.id
    assert [f.assignee_id for f in alert.followups if f.done_at is None] == [world.far_supervisor.id]
    assert all(f.done_at is not None for f in alert_followups + [alert.followups[0]])
    # The far branch's counsellors now see the queued referral; the old branch's no longer do.
    from crm.auth import policy
    assert policy.can_accept_referral(world.far_counsellor, world.queued)
    assert not policy.can_accept_referral(world.other_counsellor, world.queued)
    assert db.session.get(Referral, world.queued.id).branch_id == world.other_branch.id


def test_a_counsellor_sees_and_completes_the_followups_of_planned_sessions(app, client, login_as, csrf):
    world = CounsellingWorld()
    db.session.commit()
    with app.test_request_context():
        _session(world, today() + timedelta(days=7))
    db.session.commit()
    login_as(world.author)
    page = client.get("/followups/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Counselling session" in body and f'href="/counselling/referrals/{world.referral.id}">林晓雨</a>' in body
    assert 'href="/followups/"' in client.get("/counselling/").get_data(as_text=True)  # in the menu
    planned = _open(member_id=world.member.id, kind=FollowUpKind.COUNSELLING)[0]
    done = client.post(f"/followups/{planned.id}/complete",
                       data={"csrf_token": csrf(), "outcome": "按时进行", "version": str(planned.version)})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(FollowUp, planned.id).outcome == "按时进行"


def test_a_counsellor_taken_off_a_referral_no_longer_sees_its_next_session(app, client, login_as):
    world = CounsellingWorld()
    db.session.commit()
    with app.test_request_context():
        counselling.assign_referral(world.referral, world.other_counsellor, by=world.supervisor)
    db.session.commit()
    login_as(world.author)
    assert "林晓雨" not in client.get("/counselling/").get_data(as_text=True)


def test_a_due_date_more_than_a_year_ahead_is_refused_at_the_field(client, login_as, csrf):
    user = login_as("volunteer")
    member = make_member(owner=user)
    db.session.commit()
    response = client.post(f"/followups/new/{member.id}", data={"csrf_token": csrf(), "due_on": "9999-12-31",
                                                               "kind": "other", "title": "很久以后"})
    assert response.status_code == 302
    assert "Choose a date within the next twelve months." in client.get(
        f"/members/{member.id}").get_data(as_text=True)
    assert _open(member_id=member.id) == []


def test_the_calendar_feed_survives_the_last_day_there_is(client, login_as, csrf):
    user = login_as("volunteer")
    member = make_member(owner=user)
    followup = FollowUp(due_on=today().replace(year=9999, month=12, day=31), assignee_id=user.id,
                        member_id=member.id, kind=FollowUpKind.OTHER, created_by_id=user.id)
    db.session.add(followup)
    db.session.commit()
    client.post("/followups/feed/reset", data={"csrf_token": csrf()})
    db.session.refresh(user)
    body = client.get(f"/followups/{user.ics_token}.ics").get_data(as_text=True)
    assert "DTSTART;VALUE=DATE:99991231\r\nDURATION:P1D\r\n" in body


def test_a_risk_alerts_followup_is_done_only_by_acknowledging_the_alert(app, client, login_as, csrf):
    world = CounsellingWorld()
    followup = create_followup(assignee=world.supervisor, member=world.member, due_on=today(), by=world.author,
                               kind=FollowUpKind.RISK_ALERT)
    world.alert.followups.append(followup)
    db.session.commit()
    login_as(world.supervisor)
    page = client.get("/followups/").get_data(as_text=True)
    assert 'href="/counselling/alerts">Acknowledge the alert under Risk alerts</a>' in page
    refused = client.post(f"/followups/{followup.id}/complete",
                          data={"csrf_token": csrf(), "outcome": "看过了", "version": str(followup.version)},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert "This follow-up is done when the alert is acknowledged under Risk alerts." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUp, followup.id).done_at is None
    assert db.session.get(RiskAlert, world.alert.id).acknowledged_at is None
