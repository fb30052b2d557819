"""A member is in a relationship through one introduction at a time: while one of theirs is at "in a
relationship" or "engaged", their other introductions can only close, and their case status is the pipeline's."""

import pytest

from crm.errors import Refusal
from crm.extensions import db
from crm.members.models import Gender, Member, MemberStatus
from crm.pairings import pipeline, services
from crm.pairings.models import ConsentAnswer, ConsentChannel, Pairing, PairingCloseReason, Stage
from tests import dbstate
from tests.factories import make_member, make_user
from tests.pairings.helpers import both_yes, proposed
from tests.pairings.test_pages import switch


def _two_introductions(consent_to_c=True):
    """Member ``a`` introduced to ``b`` and (when ``consent_to_c``) to ``c``; a's side of a-c said yes."""
    ab, vol_a, vol_b, a, b = proposed()
    c = make_member(owner=vol_b, gender=Gender.FEMALE, branch=b.branch)
    ac = services.propose_pairing(a, c, vol_a)
    both_yes(ab, vol_a, vol_b, a, b)
    if consent_to_c:
        both_yes(ac, vol_a, vol_b, a, c)
    else:
        services.record_consent(ac, a, ConsentAnswer.YES, ConsentChannel.PHONE, {}, vol_a)
    return ab, ac, vol_a, vol_b, a, b, c


def test_while_a_member_is_in_a_relationship_their_other_introductions_can_only_close(db, app, ctx):
    ab, ac, vol_a, vol_b, a, b, c = _two_introductions()
    pipeline.move(ab, Stage.RELATIONSHIP, vol_a)
    assert pipeline.allowed_moves(ac, vol_a) == pipeline.allowed_moves(ac, vol_b) == [Stage.CLOSED]
    for to in (Stage.FIRST_MEETING, Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED):
        with pytest.raises(Refusal, match="in a relationship through another introduction"):
            pipeline.move(ac, to, vol_b)
    assert ac.stage is Stage.INTRODUCED and c.status is MemberStatus.ACTIVE
    pipeline.move(ab, Stage.ENGAGED, vol_a)  # the relationship itself moves on
    pipeline.move(ac, Stage.CLOSED, vol_b, close_reason=PairingCloseReason.OTHER)
    assert ac.stage is Stage.CLOSED and c.status is MemberStatus.ACTIVE and a.status is MemberStatus.IN_RELATIONSHIP


def test_when_the_relationship_ends_the_other_introduction_moves_on_and_the_first_cannot_reopen(db, app, ctx):
    ab, ac, vol_a, vol_b, a, b, c = _two_introductions()
    pipeline.move(ab, Stage.RELATIONSHIP, vol_a)
    pipeline.move(ab, Stage.CLOSED, vol_a, close_reason=PairingCloseReason.ENDED_BY_MEMBER)
    assert a.status is b.status is MemberStatus.ACTIVE
    pipeline.move(ac, Stage.RELATIONSHIP, vol_b)
    assert a.status is c.status is MemberStatus.IN_RELATIONSHIP and b.status is MemberStatus.ACTIVE

    supervisor = make_user("supervisor", branch=a.branch)
    assert pipeline.allowed_moves(ab, supervisor) == []
    with pytest.raises(Refusal, match="in a relationship through another introduction"):
        pipeline.move(ab, Stage.RELATIONSHIP, supervisor, note="两人复合了")
    assert ab.stage is Stage.CLOSED and b.status is MemberStatus.ACTIVE
    # Closing the relationship that stands returns a to the pool once, not while another one holds them.
    pipeline.move(ac, Stage.CLOSED, vol_b, close_reason=PairingCloseReason.ENDED_BY_MEMBER)
    assert a.status is MemberStatus.ACTIVE
    pipeline.move(ab, Stage.RELATIONSHIP, supervisor, note="两人复合了")
    assert a.status is MemberStatus.IN_RELATIONSHIP


def _committed(app, **kwargs):
    with app.test_request_context():
        found = _two_introductions(**kwargs)
        pipeline.move(found[0], Stage.RELATIONSHIP, found[2])
    db.session.commit()
    return found


def test_the_second_yes_is_refused_beside_the_answer_and_changes_nothing(app, client, login_as, csrf):
    ab, ac, vol_a, vol_b, a, b, c = _committed(app, consent_to_c=False)
    switch(client, login_as, vol_b)
    page = client.get(f"/pairings/{ac.id}").get_data(as_text=True)
    assert 'id="held-by"' in page and "in a relationship through another introduction" in page
    before = dbstate.contents()
    response = client.post(f"/pairings/{ac.id}/consent", data={
        "csrf_token": csrf(), "member_id": str(c.id), "answer": "yes", "channel": "phone"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = body[body.index(f'id="answer-{c.id}-error"'):]
    assert error[:error.index("</p>")].endswith("this one cannot move on or be reopened.")
    assert dbstate.contents() == before


def test_the_introduction_page_says_why_it_can_only_be_closed(app, client, login_as, csrf):
    ab, ac, vol_a, vol_b, a, b, c = _committed(app)
    switch(client, login_as, vol_a)
    page = client.get(f"/pairings/{ac.id}").get_data(as_text=True)
    assert 'id="held-by"' in page and "in a relationship through another introduction" in page
    assert 'name="to" value="closed"' in page and 'name="to" value="first_meeting"' not in page
    assert 'id="held-by"' not in client.get(f"/pairings/{ab.id}").get_data(as_text=True)
    before = dbstate.contents()
    response = client.post(f"/pairings/{ac.id}/move", data={"csrf_token": csrf(), "to": "dating",
                                                          "version": ac.version}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "in a relationship through another introduction" in response.get_data(
        as_text=True)
    assert dbstate.contents() == before


def test_a_case_file_in_a_relationship_offers_only_closing_and_keeps_its_status(app, client, login_as, csrf):
    ab, ac, vol_a, vol_b, a, b, c = _committed(app)
    switch(client, login_as, vol_a)
    page = client.get(f"/members/{a.id}").get_data(as_text=True)
    status_select = page[page.index('name="status"'):]
    status_select = status_select[:status_select.index("</select>")]
    assert '<option selected value="in_relationship">' in status_select
    assert [v for v in ("intake", "active", "paused", "closed") if f'value="{v}"' in status_select] == ["closed"]

    for status in ("active", "paused", "intake", "in_relationship"):
        before = dbstate.contents()
        response = client.post(f"/members/{a.id}/status", data={
            "csrf_token": csrf(), "status": status, "close_reason": "", "version": str(a.version)})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, status
        assert 'id="status-error"' in body and f"through introduction {ab.reference}" in body
        assert dbstate.contents() == before

    response = client.post(f"/members/{a.id}/status", data={
        "csrf_token": csrf(), "status": "closed", "close_reason": "moved_away", "version": str(a.version)})
    assert response.status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, a.id)
    assert member.status is MemberStatus.CLOSED
    # Reopening while the introduction still holds the two would make a free member of someone in a relationship.
    before = dbstate.contents()
    response = client.post(f"/members/{a.id}/status", data={
        "csrf_token": csrf(), "status": "active", "close_reason": "", "version": str(member.version)})
    assert response.status_code == 422
    assert f"Introduction {ab.reference} is at “In a relationship”" in response.get_data(as_text=True)
    assert dbstate.contents() == before
    assert db.session.get(Pairing, ab.id).stage is Stage.RELATIONSHIP


def test_after_the_wedding_the_other_introduction_says_the_case_is_closed_and_the_wedding_says_nothing(
        app, client, login_as):
    ab, ac, vol_a, vol_b, a, b, c = _committed(app)
    with app.test_request_context():
        pipeline.move(db.session.get(Pairing, ab.id), Stage.MARRIED, vol_a)
    db.session.commit()
    switch(client, login_as, vol_a)
    assert 'id="held-by"' not in client.get(f"/pairings/{ab.id}").get_data(as_text=True)
    page = client.get(f"/pairings/{ac.id}").get_data(as_text=True)
    assert 'id="held-by">A member of this introduction has a closed case file.' in page
