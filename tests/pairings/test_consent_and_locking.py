from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.pairings import pipeline, services
from crm.pairings.models import ConsentAnswer, ConsentChannel, Pairing, PairingCloseReason, Stage
from tests.pairings.helpers import both_yes, proposed


def test_a_consent_request_older_than_the_configured_days_is_overdue(db, app, ctx, monkeypatch):
    pairing, vol_a, vol_b, a, b = proposed()
    consent = pairing.consent_for(b)
    consent.asked_at = now_utc() - timedelta(days=11)
    assert services.consent_is_overdue(pairing, consent)
    monkeypatch.setitem(app.config, "CONSENT_OVERDUE_DAYS", 12)
    assert not services.consent_is_overdue(pairing, consent)
    monkeypatch.setitem(app.config, "CONSENT_OVERDUE_DAYS", 10)
    db.session.flush()
    rows = services.waiting_for(vol_b)
    assert [(p.id, c.member_id) for p, c in rows] == [(pairing.id, b.id)]


def test_overdue_shows_to_both_volunteers_and_the_supervisor(client, login_as, db, ctx):
    from tests.factories import make_user
    from tests.pairings.test_pages import switch

    pairing, vol_a, vol_b, a, b = proposed()
    pairing.consent_for(b).asked_at = now_utc() - timedelta(days=15)
    supervisor = make_user("supervisor", branch=a.branch)
    db.session.commit()
    for user in (vol_a, vol_b, supervisor):
        switch(client, login_as, user)
        assert "Overdue" in client.get(f"/pairings/{pairing.id}").get_data(as_text=True), user
    assert f"/pairings/{pairing.id}" in client.get("/pairings/inbox").get_data(as_text=True)


def test_two_sessions_moving_the_same_pairing_the_second_is_refused(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    db.session.commit()
    pairing_id = pairing.id
    with Session(db.engine) as first, Session(db.engine) as second:
        p1, p2 = first.get(Pairing, pairing_id), second.get(Pairing, pairing_id)
        p1.stage = Stage.DATING  # what another request's move does, committed first
        first.commit()
        p2.stage = Stage.CLOSED
        p2.close_reason = PairingCloseReason.NO_CHEMISTRY
        from sqlalchemy.orm.exc import StaleDataError
        with pytest.raises(StaleDataError):
            second.flush()
        second.rollback()
    db.session.rollback()  # end this session's read snapshot, taken before the two sessions wrote
    assert db.session.get(Pairing, pairing_id).stage is Stage.DATING


def test_a_move_with_an_old_version_is_refused_with_a_message(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    old = pairing.version
    pipeline.move(pairing, Stage.DATING, vol_a)
    with pytest.raises(Refusal, match="Someone else moved this introduction"):
        pipeline.move(pairing, Stage.CLOSED, vol_b, close_reason=PairingCloseReason.OTHER, expected_version=old)
    assert pairing.stage is Stage.DATING


def test_pipeline_move_turns_a_lost_race_into_a_refusal(db, app, ctx):
    """The second request read the pairing before the first committed: its flush finds no row."""
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    db.session.commit()
    with db.engine.begin() as conn:  # another request's move, committed meanwhile
        conn.execute(Pairing.__table__.update().where(Pairing.__table__.c.id == pairing.id)
                     .values(version=pairing.version + 1, stage="dating"))
    with pytest.raises(Refusal, match="Someone else moved this introduction"):
        pipeline.move(pairing, Stage.FIRST_MEETING, vol_b)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.DATING


def _answer(client, csrf, pairing, member, answer, htmx=False, **shares):
    return client.post(f"/pairings/{pairing.id}/consent", data={
        "csrf_token": csrf(), "member_id": str(member.id), "answer": answer, "channel": "phone",
        **{name: "y" for name in shares}}, headers={"HX-Request": "true"} if htmx else {})


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("stale_answer", ["yes", "no"])
def test_a_consent_form_opened_before_the_answer_was_recorded_is_refused_and_changes_nothing(
        app, client, login_as, csrf, htmx, stale_answer):
    from tests import dbstate
    from tests.factories import make_user
    from tests.pairings.test_pages import switch

    with app.test_request_context():
        pairing, vol_a, vol_b, a, b = proposed()
        supervisor = make_user("supervisor", branch=a.branch)
    db.session.commit()
    switch(client, login_as, vol_a)
    assert f'name="member_id" value="{a.id}"' in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    switch(client, login_as, supervisor)  # meanwhile the supervisor records A's yes, sharing the phone
    assert _answer(client, csrf, pairing, a, "yes", share_phone=True).status_code == 302
    switch(client, login_as, vol_a)
    before = dbstate.contents()
    response = _answer(client, csrf, pairing, a, stale_answer, htmx=htmx)  # the form opened before
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Someone else recorded this answer (“Yes”) after you opened the page; nothing was changed." in body
    assert f'name="member_id" value="{a.id}"' not in body  # the answer stands; no form to answer again
    assert dbstate.contents() == before
    consent = db.session.get(Pairing, pairing.id).consent_for(a)
    assert (consent.answer, consent.share_phone, consent.recorded_by_id) == (ConsentAnswer.YES, True, supervisor.id)


def test_recording_an_answer_twice_through_the_service_is_refused(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.PHONE, {"share_phone": True}, vol_a)
    with pytest.raises(Refusal, match="Someone else recorded this answer"):
        services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.WECHAT, {}, vol_a)
    assert pairing.consent_for(a).share_phone and pairing.consent_for(a).channel is ConsentChannel.PHONE
