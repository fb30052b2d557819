from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Note
from crm.pairings.models import Pairing, Source, Stage
from tests.factories import make_user
from tests.pairings.helpers import both_yes, proposed
from tests.pairings.test_pages import switch


def _setup(app, introduced=True):
    with app.test_request_context():
        pairing, vol_a, vol_b, a, b = proposed()
        if introduced:
            both_yes(pairing, vol_a, vol_b, a, b)
    db.session.commit()
    return pairing, vol_a, vol_b, a, b


def test_detail_is_a_page_or_a_fragment(app, client, login_as):
    pairing, vol_a, *_ = _setup(app)
    switch(client, login_as, vol_a)
    full = client.get(f"/pairings/{pairing.id}")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]
    fragment = client.get(f"/pairings/{pairing.id}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)


def test_a_move_from_a_stale_page_is_refused_and_changes_nothing(app, client, login_as, csrf):
    pairing, vol_a, vol_b, a, b = _setup(app)
    switch(client, login_as, vol_a)
    stale_version = pairing.version
    assert client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), "to": "dating",
                                                             "version": stale_version}).status_code == 302
    response = client.post(f"/pairings/{pairing.id}/move", data={
        "csrf_token": csrf(), "to": "closed", "close_reason": "other", "version": stale_version},
        headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Someone else moved this introduction" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.DATING


def test_closing_needs_a_reason_and_reopening_a_supervisor(app, client, login_as, csrf):
    pairing, vol_a, vol_b, a, b = _setup(app)
    switch(client, login_as, vol_a)
    response = client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), "to": "closed",
                                                                  "version": pairing.version},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Choose why" in response.get_data(as_text=True)
    closing = {"csrf_token": csrf(), "to": "closed", "close_reason": "lost_contact", "version": pairing.version}
    asked = client.post(f"/pairings/{pairing.id}/move", data=closing)  # without JS it asks first
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in body and 'value="lost_contact"' in body
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is not Stage.CLOSED
    client.post(f"/pairings/{pairing.id}/move", data={**closing, "confirmed": "1"})
    db.session.expire_all()
    pairing = db.session.get(Pairing, pairing.id)
    assert pairing.stage is Stage.CLOSED
    assert 'value="introduced"' not in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    supervisor = make_user("supervisor", branch=a.branch)
    db.session.commit()
    switch(client, login_as, supervisor)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert 'name="to" value="introduced"' in page
    client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), "to": "introduced",
                                                      "note": "重新联系上了", "version": pairing.version})
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED


def test_notes_about_a_pairing_stay_on_the_authors_side(app, client, login_as, csrf):
    pairing, vol_a, vol_b, a, b = _setup(app)
    switch(client, login_as, vol_a)
    response = client.post(f"/pairings/{pairing.id}/notes", data={
        "csrf_token": csrf(), "member_id": a.id, "kind": "call", "body": "男方说很期待见面"})
    assert response.status_code == 302
    note = db.session.scalars(select(Note)).one()
    assert (note.member_id, note.pairing_id) == (a.id, pairing.id)
    assert "男方说很期待见面" in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    refused = client.post(f"/pairings/{pairing.id}/notes", data={
        "csrf_token": csrf(), "member_id": b.id, "kind": "call", "body": "x"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    switch(client, login_as, vol_b)
    assert "男方说很期待见面" not in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)


def test_board_filters_by_source_and_age_of_stage(app, client, login_as):
    first, vol_a, *_ = _setup(app)
    first.source = Source.EVENT
    first.stage_changed_at = now_utc() - timedelta(days=40)
    db.session.commit()
    switch(client, login_as, vol_a)
    assert first.reference in client.get("/pairings/board?source=event").get_data(as_text=True)
    assert first.reference not in client.get("/pairings/board?source=manual").get_data(as_text=True)
    assert first.reference in client.get("/pairings/board?min_days=30").get_data(as_text=True)
    assert first.reference not in client.get("/pairings/board?min_days=50").get_data(as_text=True)
    fragment = client.get("/pairings/board?source=event", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="board"' in fragment and "<html" not in fragment


def test_the_board_moves_a_card_with_the_same_move_function(app, client, login_as, csrf):
    pairing, vol_a, *_ = _setup(app)
    switch(client, login_as, vol_a)
    response = client.post(f"/pairings/{pairing.id}/move", data={
        "csrf_token": csrf(), "to": "first_meeting", "version": pairing.version, "next": "board"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pairings/board")
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).history[-1].to_stage is Stage.FIRST_MEETING


def test_the_inbox_lists_only_my_members_unanswered_requests(app, client, login_as):
    pairing, vol_a, vol_b, a, b = _setup(app, introduced=False)
    switch(client, login_as, vol_b)
    assert pairing.reference in client.get("/pairings/inbox").get_data(as_text=True)
    switch(client, login_as, make_user("volunteer"))
    db.session.commit()
    assert pairing.reference not in client.get("/pairings/inbox").get_data(as_text=True)


def test_a_long_column_shows_its_total_and_the_longest_waiting_cards(app, client, login_as, monkeypatch):
    import re

    from crm.pairings import queries, services
    from tests.factories import make_member

    monkeypatch.setattr(queries, "BOARD_FIRST_PAGE", 2)
    pairing, vol_a, vol_b, a, b = _setup(app, introduced=False)
    with app.test_request_context():
        later = [services.propose_pairing(a, make_member(owner=vol_b, gender=b.gender), vol_a) for _ in range(4)]
    pairing.stage_changed_at = now_utc() - timedelta(days=9)
    db.session.commit()
    switch(client, login_as, vol_a)
    html = client.get("/pairings/board").get_data(as_text=True)
    column = html[html.index('id="col-awaiting_consent"'):html.index('id="col-introduced"')]
    assert '<span class="count">5</span>' in column
    assert len(re.findall(r'class="card"', column)) == 2 and "Show more (3 not shown yet)" in column
    assert pairing.reference in column and later[-1].reference not in column


def test_nonsense_input_gets_a_message_never_a_500(app, client, login_as, csrf):
    pairing, vol_a, vol_b, a, b = _setup(app)
    switch(client, login_as, vol_a)
    for data in ({"to": "dating", "version": "abc"}, {"to": "nowhere", "version": "1"}, {"version": "1"}):
        response = client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), **data},
                               headers={"HX-Request": "true"})
        assert response.status_code == 422, data
    for data in ({"member_id": "abc"}, {"member_id": "987654"}, {"member_id": str(a.id)}):
        response = client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "source": "manual", **data})
        assert response.status_code == 422, data
    response = client.post(f"/pairings/{pairing.id}/consent", data={"csrf_token": csrf(), "member_id": "x"})
    assert response.status_code == 403
    for query in ("min_days=abc", "volunteer=xyz", "source=bogus", "branch=-1"):
        assert client.get(f"/pairings/board?{query}").status_code == 200, query
    assert client.get("/followups/?show=bogus&scope=nope").status_code == 200
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED


def test_a_days_filter_beyond_ten_years_gets_a_message_beside_it_never_a_500(app, client, login_as):
    pairing, vol_a, *_ = _setup(app)
    switch(client, login_as, vol_a)
    response = client.get("/pairings/board?min_days=800000")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="800000"' in body and "Enter a number of days from 0 to 3650." in body
    assert client.get("/pairings/board/more?stage=introduced&min_days=800000").status_code == 200
    assert client.get("/pairings/board?min_days=3650").status_code == 200


def test_the_board_query_itself_cannot_overflow_on_a_huge_days_filter(app, db):
    pairing, vol_a, *_ = _setup(app)
    with app.test_request_context():
        from crm.pairings import queries

        columns = queries.board(vol_a, queries.BoardFilters(min_days=10**9))
    assert all(not column.pairings for column in columns)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_move_with_a_bad_note_says_why_beside_the_note_and_keeps_it(app, client, login_as, csrf, htmx):
    pairing, vol_a, *_ = _setup(app)
    switch(client, login_as, vol_a)
    response = client.post(f"/pairings/{pairing.id}/move", data={
        "csrf_token": csrf(), "to": "dating", "version": pairing.version, "note": "见面很顺利\x0b下周再约"},
        headers={"HX-Request": "true"} if htmx else {})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("<html" in body) is not htmx
    error = body[body.index('id="note-error"'):]
    assert "control characters" in error[:error.index("</p>")]
    assert "见面很顺利\x0b下周再约</textarea>" in body
    assert "Choose where to move this introduction." not in body
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED


def test_an_invalid_answer_comes_back_in_its_own_sides_form_only(app, client, login_as, csrf):
    pairing, vol_a, vol_b, a, b = _setup(app, introduced=False)
    supervisor = make_user("supervisor", branch=a.branch)  # records both sides: two forms on one page
    db.session.commit()
    switch(client, login_as, supervisor)
    response = client.post(f"/pairings/{pairing.id}/consent", data={
        "csrf_token": csrf(), "member_id": str(a.id), "channel": "wechat", "share_phone": "y", "share_wechat": "y"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422

    def form_of(member):
        start = body.index(f'name="member_id" value="{member.id}"')
        return body[start:body.index("</form>", start)]

    def checked(form, field_id):
        tag = form[form.rindex("<input", 0, form.index(f'id="{field_id}"')):]
        return "checked" in tag[:tag.index(">")]

    mine, other = form_of(a), form_of(b)
    assert f'id="answer-{a.id}-error"' in mine and checked(mine, f"share_phone-{a.id}")
    assert checked(mine, f"share_wechat-{a.id}") and '<option selected value="wechat">' in mine
    assert "error" not in other and not checked(other, f"share_phone-{b.id}")
    assert not checked(other, f"share_wechat-{b.id}") and '<option selected value="phone">' in other


def test_a_reopened_declined_introduction_asks_the_side_that_said_no_again(app, client, login_as, csrf):
    from crm.audit.models import AuditEntry
    from crm.pairings.models import ConsentAnswer

    pairing, vol_a, vol_b, a, b = _setup(app, introduced=False)
    supervisor = make_user("supervisor", branch=a.branch)
    db.session.commit()
    for user, member, answer in ((vol_a, a, "yes"), (vol_b, b, "no")):
        switch(client, login_as, user)
        client.post(f"/pairings/{pairing.id}/consent", data={"csrf_token": csrf(), "member_id": str(member.id),
                                                             "answer": answer, "channel": "wechat"})
    db.session.expire_all()
    pairing = db.session.get(Pairing, pairing.id)
    assert pairing.stage is Stage.CLOSED
    switch(client, login_as, supervisor)
    client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), "to": "awaiting_consent",
                                                      "version": pairing.version, "note": "她改变了主意"})
    db.session.expire_all()
    pairing = db.session.get(Pairing, pairing.id)
    assert pairing.stage is Stage.AWAITING_CONSENT
    assert [(c.member_id, c.answer) for c in pairing.consents] == [(a.id, ConsentAnswer.YES),
                                                                   (b.id, ConsentAnswer.PENDING)]
    reset = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.consent_reset")).one()
    assert reset.detail["member"] == b.id and reset.detail["answer"] == "no" and reset.detail["channel"] == "wechat"
    assert reset.detail["recorded_by"] == vol_b.id
    switch(client, login_as, vol_b)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert f'name="member_id" value="{b.id}"' in page and f'name="member_id" value="{a.id}"' not in page
    assert f"/pairings/{pairing.id}" in client.get("/pairings/inbox").get_data(as_text=True)
    client.post(f"/pairings/{pairing.id}/consent", data={"csrf_token": csrf(), "member_id": str(b.id),
                                                         "answer": "yes", "channel": "phone"})
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED
