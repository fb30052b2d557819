"""Referral, queue, sessions, shares and risk alerts, driven through the pages."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError

from crm.audit.models import AuditEntry
from crm.clock import today
from crm.counselling import queries
from crm.counselling.models import CaseShare, CounsellingSession, Referral, ReferralStatus, RiskAlert
from crm.extensions import db
from crm.followups.models import FollowUp
from tests import dbstate
from tests.counselling.helpers import MARKER
from tests.factories import make_member
from tests.i18n import msg


def _session_data(**overrides):
    data = {"held_on": (today() - timedelta(days=1)).isoformat(), "duration_minutes": "45", "mode": "online",
            "topic": "communication", "confidential_notes": f"新的记录 {MARKER}",
            "shareable_summary": "约定下次继续练习表达", "next_session_on": (today() + timedelta(days=14)).isoformat(),
            "risk": "none"}
    data.update(overrides)
    return data


def test_a_volunteer_refers_their_member_with_recorded_consent(world, sign_in):
    client = sign_in(world.owner)
    member = make_member(owner=world.owner, name="赵新")
    db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Refer to counselling" in page or "转介" in page or 'action="/counselling/members/' in page
    response = client.post(f"/counselling/members/{member.id}/refer", data={
        "reason": "分手后情绪低落", "consent": "y", "consent_channel": "wechat", "csrf_token": client.token})
    assert response.status_code == 302
    referral = db.session.scalars(select(Referral).where(Referral.member_id == member.id)).one()
    assert referral.status is ReferralStatus.OPEN and referral.consent_recorded_by_id == world.owner.id
    assert referral.branch_id == member.branch_id and referral.consent_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "referral.create"))


def test_a_referral_without_consent_is_refused_next_to_the_field_and_writes_nothing(world, sign_in):
    client = sign_in(world.owner)
    before = dbstate.contents()
    response = client.post(f"/counselling/members/{world.member.id}/refer", data={
        "reason": "想咨询", "consent_channel": "phone", "csrf_token": client.token})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "想咨询" in body and 'id="consent-error"' in body
    assert dbstate.contents() == before


def test_a_self_referral_is_recorded_by_staff_for_the_member(world, sign_in):
    member = make_member(owner=world.owner)
    db.session.commit()
    client = sign_in(world.supervisor)
    response = client.post(f"/counselling/members/{member.id}/refer", data={
        "reason": "会员主动要求", "self_referred": "y", "consent": "y", "consent_channel": "in_person",
        "csrf_token": client.token})
    assert response.status_code == 302
    referral = db.session.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert referral.is_self_referred and referral.referred_by_id == world.supervisor.id


def test_a_counsellor_of_the_branch_takes_a_referral_from_the_queue(world, sign_in):
    client = sign_in(world.other_counsellor)
    home = client.get("/counselling/").get_data(as_text=True)
    assert world.queued_member.name in home
    assert world.member.name not in home  # accepted by another counsellor: not in this queue
    response = client.post(f"/counselling/referrals/{world.queued.id}/accept", data={"csrf_token": client.token})
    assert response.status_code == 302
    db.session.refresh(world.queued)
    assert world.queued.status is ReferralStatus.ACCEPTED and world.queued.counsellor_id == world.other_counsellor.id
    assert world.queued_member.name in client.get("/counselling/").get_data(as_text=True)


def test_a_counsellor_of_another_branch_neither_sees_nor_takes_the_referral(world, sign_in):
    client = sign_in(world.far_counsellor)
    assert world.queued_member.name not in client.get("/counselling/").get_data(as_text=True)
    before = dbstate.contents()
    assert client.post(f"/counselling/referrals/{world.queued.id}/accept",
                       data={"csrf_token": client.token}).status_code == 404
    assert dbstate.contents() == before


def test_a_supervisor_assigns_a_referral_to_a_counsellor_of_the_branch_only(world, sign_in):
    client = sign_in(world.supervisor)
    before = dbstate.contents()
    refused = client.post(f"/counselling/referrals/{world.queued.id}/assign",
                          data={"counsellor_id": str(world.far_counsellor.id), "version": "1",
                                "csrf_token": client.token})
    assert refused.status_code == 422 and dbstate.contents() == before
    response = client.post(f"/counselling/referrals/{world.queued.id}/assign",
                           data={"counsellor_id": str(world.other_counsellor.id), "version": "1",
                                  "csrf_token": client.token})
    assert response.status_code == 302
    db.session.refresh(world.queued)
    assert world.queued.counsellor_id == world.other_counsellor.id and world.queued.status is ReferralStatus.ACCEPTED


def test_the_counsellor_logs_a_session_and_the_next_date_becomes_their_follow_up(world, sign_in):
    client = sign_in(world.author)
    assert client.get(f"/counselling/referrals/{world.referral.id}/sessions/new").status_code == 200
    response = client.post(f"/counselling/referrals/{world.referral.id}/sessions/new",
                           data={**_session_data(), "csrf_token": client.token})
    assert response.status_code == 302, response.get_data(as_text=True)
    logged = db.session.scalars(select(CounsellingSession).order_by(CounsellingSession.id.desc())).first()
    assert logged.duration_minutes == 45 and logged.counsellor_id == world.author.id
    followup = db.session.scalars(select(FollowUp).where(FollowUp.assignee_id == world.author.id)).one()
    assert followup.due_on == today() + timedelta(days=14) and followup.member_id == world.member.id
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "counselling.session_log")).one()
    assert MARKER not in str(entry.detail)


def test_a_session_sent_twice_is_logged_once(world, sign_in):
    client = sign_in(world.author)
    data = {**_session_data(risk="high"), "csrf_token": client.token}
    assert client.post(f"/counselling/referrals/{world.referral.id}/sessions/new", data=data).status_code == 302
    before = dbstate.contents()
    again = client.post(f"/counselling/referrals/{world.referral.id}/sessions/new", data=data)
    assert again.status_code == 422
    body = again.get_data(as_text=True)
    assert 'id="held_on-error"' in body and "This session is logged already" in body
    assert dbstate.contents() == before  # no second session, alert or follow-ups


@pytest.mark.parametrize(("field", "value"), [
    ("held_on", (today() + timedelta(days=1)).isoformat()),
    ("next_session_on", (today() - timedelta(days=3)).isoformat()),
    ("duration_minutes", "0"),
    ("confidential_notes", ""),
    ("risk", "extreme"),
])
def test_a_bad_session_is_refused_next_to_the_field_and_keeps_what_was_typed(world, sign_in, field, value):
    client = sign_in(world.author)
    before = dbstate.contents()
    response = client.post(f"/counselling/referrals/{world.referral.id}/sessions/new",
                           data={**_session_data(**{field: value}), "csrf_token": client.token})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body and "约定下次继续练习表达" in body
    assert dbstate.contents() == before


def test_a_high_risk_flag_alerts_the_branch_supervisors_at_once_without_the_notes(world, sign_in):
    client = sign_in(world.author)
    client.post(f"/counselling/referrals/{world.referral.id}/sessions/new",
                data={**_session_data(risk="high", next_session_on=""), "csrf_token": client.token})
    alert = db.session.scalars(select(RiskAlert).order_by(RiskAlert.id.desc())).first()
    assert alert.acknowledged_at is None
    assert [f.assignee_id for f in alert.followups] == [world.supervisor.id]  # not the other branch's
    supervisor = sign_in(world.supervisor)
    page = supervisor.get("/members/team").get_data(as_text=True)
    assert 'class="risk-banner"' in page and MARKER not in page
    alerts = supervisor.get("/counselling/alerts").get_data(as_text=True)
    assert world.member.name in alerts and MARKER not in alerts
    assert 'class="risk-banner"' not in sign_in(world.far_supervisor).get("/counselling/alerts").get_data(as_text=True)


def test_the_supervisor_acknowledges_and_the_acknowledgement_is_recorded(world, sign_in):
    client = sign_in(world.supervisor)
    response = client.post(f"/counselling/alerts/{world.alert.id}/acknowledge", data={"csrf_token": client.token})
    assert response.status_code == 302
    db.session.refresh(world.alert)
    assert world.alert.acknowledged_by_id == world.supervisor.id and world.alert.acknowledged_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "risk_alert.acknowledge"))
    assert 'class="risk-banner"' not in client.get("/counselling/alerts").get_data(as_text=True)
    again = client.post(f"/counselling/alerts/{world.alert.id}/acknowledge", data={"csrf_token": client.token})
    assert again.status_code == 302  # refused with a message, nothing changes
    db.session.refresh(world.alert)
    assert world.alert.acknowledged_by_id == world.supervisor.id


def test_acknowledging_closes_the_supervisors_follow_ups_for_the_alert(app, world, sign_in):
    author = sign_in(world.author)
    author.post(f"/counselling/referrals/{world.referral.id}/sessions/new",
                data={**_session_data(risk="high", next_session_on=""), "csrf_token": author.token})
    alert = db.session.scalars(select(RiskAlert).order_by(RiskAlert.id.desc())).first()
    supervisor = sign_in(world.supervisor)
    supervisor.post(f"/counselling/alerts/{alert.id}/acknowledge", data={"csrf_token": supervisor.token})
    db.session.expire_all()
    assert all(f.done_at is not None and f.done_by_id == world.supervisor.id for f in alert.followups)


def test_closing_a_referral_records_the_outcome(world, sign_in):
    client = sign_in(world.author)
    refused = client.post(f"/counselling/referrals/{world.referral.id}/close",
                          data={"outcome": "", "version": "1", "csrf_token": client.token})
    assert refused.status_code == 422
    data = {"outcome": "情绪稳定，结束咨询", "version": "1", "csrf_token": client.token}
    asked = client.post(f"/counselling/referrals/{world.referral.id}/close", data=data)  # without JS: asks first
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and msg("Close this referral?") in body
    assert 'name="confirmed" value="1"' in body and 'value="情绪稳定，结束咨询"' in body
    db.session.refresh(world.referral)
    assert world.referral.status is not ReferralStatus.CLOSED
    page = client.get(f"/counselling/referrals/{world.referral.id}").get_data(as_text=True)
    assert "hx-confirm=" in page and "hx-vals='{\"confirmed\": \"1\"}'" in page  # with JS the dialog asks
    response = client.post(f"/counselling/referrals/{world.referral.id}/close", data={**data, "confirmed": "1"})
    assert response.status_code == 302
    db.session.refresh(world.referral)
    assert world.referral.status is ReferralStatus.CLOSED and world.referral.outcome == "情绪稳定，结束咨询"
    owner_page = sign_in(world.owner).get(f"/members/{world.member.id}").get_data(as_text=True)
    assert "情绪稳定，结束咨询" in owner_page and MARKER not in owner_page


def test_sharing_the_case_gives_the_other_counsellor_the_notes(world, sign_in):
    other = sign_in(world.other_counsellor)
    assert other.get(f"/counselling/referrals/{world.referral.id}").status_code == 404
    author = sign_in(world.author)
    response = author.post(f"/counselling/referrals/{world.referral.id}/share",
                           data={"counsellor_id": str(world.other_counsellor.id), "csrf_token": author.token})
    assert response.status_code == 302
    assert db.session.scalar(select(CaseShare).where(CaseShare.counsellor_id == world.other_counsellor.id))
    page = other.get(f"/counselling/referrals/{world.referral.id}")
    assert page.status_code == 200 and MARKER in page.get_data(as_text=True)
    assert other.get(f"/counselling/referrals/{world.referral.id}/profile").status_code == 200


def test_every_read_of_the_notes_is_audit_logged_without_the_text(world, sign_in):
    client = sign_in(world.author)
    assert MARKER in client.get(f"/counselling/referrals/{world.referral.id}").get_data(as_text=True)
    client.get(f"/counselling/referrals/{world.referral.id}")
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "counselling.notes_read")).all()
    assert len(reads) == 2
    assert all(r.actor_id == world.author.id and r.detail["session_ids"] == [world.session.id] for r in reads)
    assert all(MARKER not in str(r.detail) for r in db.session.scalars(select(AuditEntry)))


def test_nobody_but_a_counsellor_gets_notes_from_the_query(world):
    for user in (world.owner, world.supervisor, world.admin, world.other_counsellor, world.far_counsellor):
        assert queries.readable_notes(user, world.referral) == {}
    assert queries.readable_notes(world.author, world.referral) == {world.session.id: MARKER}


def test_touching_the_notes_outside_the_query_raises(world):
    session_id, member_id = world.session.id, world.member.id
    db.session.expunge_all()
    session = db.session.get(CounsellingSession, session_id)
    with pytest.raises(InvalidRequestError):
        _ = session.confidential_notes
    for _referral, sessions in queries.panel_for(None, member_id):
        for s in sessions:
            with pytest.raises(InvalidRequestError):
                _ = s.confidential_notes


def test_a_counsellor_lands_on_their_home_and_reads_the_profile_read_only(world, sign_in):
    client = sign_in(world.author)
    assert client.get("/").headers["Location"].endswith("/counselling/")
    page = client.get(f"/counselling/referrals/{world.referral.id}/profile")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and world.member.phone in body
    assert f"/members/{world.member.id}/edit" not in body and world.note.body not in body
    assert client.get(f"/members/{world.member.id}").status_code == 403
    assert client.get(f"/members/{world.member.id}/edit").status_code == 403


def test_the_case_file_shows_referral_dates_summary_and_risk_to_the_volunteer(world, sign_in):
    body = sign_in(world.owner).get(f"/members/{world.member.id}").get_data(as_text=True)
    assert "会员愿意继续沟通" in body and "risk-high" in body and MARKER not in body


def test_of_two_counsellors_taking_the_same_referral_the_second_is_refused(world, sign_in):
    first, second = sign_in(world.other_counsellor), sign_in(world.author)
    page = second.get("/counselling/").get_data(as_text=True)  # the second opened the queue earlier
    assert world.queued_member.name in page
    assert first.post(f"/counselling/referrals/{world.queued.id}/accept",
                      data={"csrf_token": first.token}).status_code == 302
    response = second.post(f"/counselling/referrals/{world.queued.id}/accept", data={"csrf_token": second.token})
    assert response.status_code in (302, 404)
    db.session.expire_all()
    assert db.session.get(Referral, world.queued.id).counsellor_id == world.other_counsellor.id


def test_the_conditional_hand_over_refuses_a_stale_accept(app, world):
    from crm.counselling import services
    from crm.errors import Refusal
    stale = world.queued
    db.session.execute(Referral.__table__.update().where(Referral.id == stale.id)
                       .values(counsellor_id=world.other_counsellor.id, status="accepted"))
    with app.test_request_context(), pytest.raises(Refusal):
        services.accept_referral(stale, by=world.author)  # the loaded object still looks queued
    db.session.rollback()


def test_a_second_acknowledgement_does_not_overwrite_the_first(app, world):
    from crm.counselling import services
    from crm.errors import Refusal
    from tests.factories import make_user
    colleague = make_user("supervisor", branch=world.branch)
    stale = world.alert
    db.session.execute(RiskAlert.__table__.update().where(RiskAlert.id == stale.id)
                       .values(acknowledged_by_id=colleague.id, acknowledged_at=world.alert.raised_at))
    with app.test_request_context(), pytest.raises(Refusal):
        services.acknowledge_risk(stale, by=world.supervisor)
    db.session.expire_all()
    assert db.session.get(RiskAlert, stale.id).acknowledged_by_id == colleague.id


def test_a_member_with_a_referral_in_progress_is_not_referred_twice(world, sign_in):
    client = sign_in(world.owner)
    assert 'action="/counselling/members/' not in client.get(f"/members/{world.member.id}").get_data(as_text=True)
    before = dbstate.contents()
    response = client.post(f"/counselling/members/{world.member.id}/refer", data={
        "reason": "再次转介", "consent": "y", "consent_channel": "phone", "csrf_token": client.token})
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    assert dbstate.contents() == before
