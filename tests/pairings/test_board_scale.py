"""The pipeline board at scale: kept column totals, first pages per column with "show more", constant statements."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.clock import now_utc
from crm.extensions import db
from crm.members import services as member_services
from crm.members.models import Gender
from crm.pairings import pipeline, queries, services, stage_counts
from crm.pairings.models import PairingStageCount, Stage
from tests.factories import make_branch, make_member, make_user
from tests.pairings.test_pages import switch


def _kept():
    return {(r.branch_id, r.stage): (r.touching, r.owned) for r in db.session.scalars(select(PairingStageCount))
            if r.touching or r.owned}


def _recounted():
    return {(b, s): (t, o) for b, s, t, o in db.session.execute(stage_counts.recount_query()) if t or o}


def _branch_with_pairings(n, branch=None, stage_days=None):
    """``n`` pairings between members of one branch (plus their volunteers and a supervisor)."""
    branch = branch or make_branch()
    vol = make_user("volunteer", branch=branch)
    sup = make_user("supervisor", branch=branch)
    man = make_member(owner=vol, gender=Gender.MALE)
    pairings = []
    for i in range(n):
        pairing = services.propose_pairing(man, make_member(owner=vol, gender=Gender.FEMALE), vol)
        if stage_days:
            pairing.stage_changed_at = now_utc() - timedelta(days=stage_days[i])
        pairings.append(pairing)
    db.session.flush()
    return branch, vol, sup, man, pairings


def test_kept_counts_follow_creation_moves_and_a_member_changing_branch(app):
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(3)
        other_branch = make_branch()
        stranger = make_member(owner=make_user("volunteer", branch=other_branch), gender=Gender.FEMALE)
        cross = services.propose_pairing(man, stranger, make_user("admin"))  # touches both branches
        pipeline.move(pairings[0], Stage.CLOSED, vol, close_reason=pipeline.PairingCloseReason.OTHER)
        assert _kept() == _recounted()
        assert _kept()[(other_branch.id, Stage.AWAITING_CONSENT)] == (1, 1 if stranger.id < man.id else 0)
        to_user = make_user("volunteer", branch=other_branch)
        member_services.reassign_members([man], to_user, by=make_user("admin"), reason="moved house")
        db.session.flush()
        assert _kept() == _recounted()
        assert (branch.id, Stage.AWAITING_CONSENT) in _kept()  # the women stayed in the first branch
        assert cross.stage is Stage.AWAITING_CONSENT


def test_rebuild_gives_what_the_services_kept(app):
    with app.test_request_context():
        _branch_with_pairings(2)
        kept = _kept()
        assert stage_counts.rebuild() > 0
        assert _kept() == kept == _recounted()


def test_branch_board_totals_come_from_the_kept_counts_and_match_a_live_count(app, client, login_as):
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(4)
    db.session.commit()
    switch(client, login_as, sup)
    html = client.get("/pairings/board").get_data(as_text=True)
    column = html[html.index('id="col-awaiting_consent"'):html.index('id="col-introduced"')]
    assert '<span class="count">4</span>' in column
    # A filter the counters cannot answer counts live, with the same result.
    html = client.get("/pairings/board?source=manual").get_data(as_text=True)
    column = html[html.index('id="col-awaiting_consent"'):html.index('id="col-introduced"')]
    assert '<span class="count">4</span>' in column


@pytest.mark.parametrize("who", ["volunteer", "supervisor"])
def test_show_more_pages_through_a_column_in_order_with_and_without_htmx(app, client, login_as, monkeypatch, who):
    monkeypatch.setattr(queries, "BOARD_FIRST_PAGE", 2)
    monkeypatch.setattr(queries, "BOARD_MORE_PAGE", 2)
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(5, stage_days=[50, 40, 30, 20, 10])
    db.session.commit()
    switch(client, login_as, vol if who == "volunteer" else sup)
    refs = [p.reference for p in pairings]  # longest in the stage first
    html = client.get("/pairings/board").get_data(as_text=True)
    column = html[html.index('id="col-awaiting_consent"'):html.index('id="col-introduced"')]
    assert re.findall(r"QQ-\d+", column) == refs[:2] and "Show more (3 not shown yet)" in column
    more = re.search(r'<li class="more"><a href="([^"]+)"', column).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "HX-Request" in fragment.headers["Vary"]
    assert re.findall(r"QQ-\d+", text) == refs[2:4] and "Show more (1 not shown yet)" in text
    last = re.search(r'<li class="more"><a href="([^"]+)"', text).group(1).replace("&amp;", "&")
    page = client.get(last).get_data(as_text=True)  # without JavaScript: a page of its own
    assert "<html" in page and re.findall(r"QQ-\d+", page) == refs[4:] and 'class="more"' not in page


def test_show_more_refuses_nonsense_with_404_and_respects_visibility(app, client, login_as):
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(3)
        outsider = make_user("supervisor", branch=make_branch())
    db.session.commit()
    switch(client, login_as, sup)
    for args in ("stage=nowhere", "", "stage=closed", "stage=proposed&start=99999999999",
                 "stage=proposed&start=-4"):
        assert client.get(f"/pairings/board/more?{args}").status_code in (404, 200), args
    assert client.get("/pairings/board/more?stage=nowhere").status_code == 404
    assert client.get("/pairings/board/more?stage=closed").status_code == 404  # closed only with show_closed
    assert client.get("/pairings/board/more?stage=closed&show_closed=y").status_code == 200
    ok = client.get("/pairings/board/more?stage=awaiting_consent&start=0").get_data(as_text=True)
    assert all(p.reference in ok for p in pairings)
    switch(client, login_as, outsider)
    seen = client.get("/pairings/board/more?stage=awaiting_consent&start=0").get_data(as_text=True)
    assert not any(p.reference in seen for p in pairings)


@pytest.mark.parametrize("who", ["volunteer", "supervisor", "admin"])
def test_board_statements_do_not_grow_with_the_pairings(app, client, login_as, count_queries, who):
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(2)
    admin = make_user("admin", branch=branch)
    db.session.commit()
    user = {"volunteer": vol, "supervisor": sup, "admin": admin}[who]
    switch(client, login_as, user)
    client.get("/pairings/board")
    with count_queries() as few:
        client.get("/pairings/board")
    with app.test_request_context():
        _branch_with_pairings(6, branch=branch)
        pipeline.move(pairings[0], Stage.CLOSED, vol, close_reason=pipeline.PairingCloseReason.OTHER)
    db.session.commit()
    with count_queries() as many:
        client.get("/pairings/board")
    assert len(many) == len(few)


def test_a_card_shows_each_side_as_the_full_projection_would(app):
    from crm.pairings.models import ConsentAnswer, ConsentChannel

    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(2)
        outsider = make_user("volunteer", branch=branch)  # sees neither member's identity
        shared = pairings[1]
        woman = shared.other(man)
        services.record_consent(shared, man, ConsentAnswer.YES, ConsentChannel.PHONE, {}, vol)
        services.record_consent(shared, woman, ConsentAnswer.YES, ConsentChannel.PHONE, {"share_full_name": True},
                                vol)
        kinds = set()
        for user in (vol, sup, outsider):
            for pairing in pairings:
                for member in pairing.members:
                    full = queries.side(user, pairing, member)
                    kinds.add(full.kind)
                    card = queries.card_side(user, pairing, member)
                    assert (card.label, card.consent, card.overdue) == (full.label, full.consent, full.overdue)
        assert kinds == {"own", "shared", "candidate"}


def test_the_benchmark_data_carries_the_kept_counts(app):
    from crm.benchdata import generate
    from crm.matching import service

    with app.app_context():
        counts = generate(db.engine, 300, seed=3, secret=app.config["SECRET_KEY"], echo=lambda *a: None)
        try:
            assert counts["pairing_stage_counts"] > 0
            assert _kept() == _recounted()
        finally:
            service.reset()


def test_cards_read_as_columns_answer_as_the_pairings_do(app):
    """The board reads its cards as rows of one statement (queries.CardPairing), not as ORM entities: every
    question the card, the policy and the pipeline ask gets the answer the Pairing gives, for each kind of card
    (pending and overdue answers, both yes, a closed pairing that may reopen, one without a consent row)."""
    from crm.pairings.models import ConsentAnswer, ConsentChannel, PairingConsent

    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(5)
        admin, outsider = make_user("admin"), make_user("volunteer", branch=branch)
        yes, closed, overdue, lonely = pairings[1], pairings[2], pairings[3], pairings[4]
        for member in yes.members:
            services.record_consent(yes, member, ConsentAnswer.YES, ConsentChannel.PHONE,
                                    {"share_full_name": member.id == man.id}, vol)
        pipeline.move(closed, Stage.CLOSED, vol, close_reason=pipeline.PairingCloseReason.OTHER)
        overdue.consents[0].asked_at = now_utc() - timedelta(days=60)
        db.session.delete(lonely.consents[1])
        db.session.flush()
        db.session.expire_all()
        cards = {card.id: card for card in queries._cards([p.id for p in pairings])}
        assert list(cards) == [p.id for p in sorted(pairings, key=lambda p: (p.stage_changed_at, p.id))]
        for pairing in pairings:
            card = cards[pairing.id]
            assert (card.reference, card.version, card.stage, card.stage_changed_at, card.both_consented) == (
                pairing.reference, pairing.version, pairing.stage, pairing.stage_changed_at, pairing.both_consented)
            assert [(c.member_id, c.answer, c.asked_at) for c in card.consents] == [
                (c.member_id, c.answer, c.asked_at) for c in pairing.consents]
            for user in (vol, sup, admin, outsider):
                assert pipeline.allowed_moves(card, user) == pipeline.allowed_moves(pairing, user)
                for card_member, member in zip(card.members, pairing.members, strict=True):
                    if pairing.consent_for(member) is None:
                        continue
                    a = queries.card_side(user, card, card_member, {g: str(g.label) for g in Gender})
                    b = queries.card_side(user, pairing, member)
                    assert (a.label, a.consent.answer, a.overdue) == (b.label, b.consent.answer, b.overdue)
        assert pipeline.allowed_moves(cards[closed.id], sup) == [Stage.AWAITING_CONSENT]  # reopen where it left
        assert queries.card_side(vol, cards[overdue.id], cards[overdue.id].members[0]).overdue
        assert len(cards[lonely.id].consents) == 1
        assert db.session.scalar(select(PairingConsent.id).where(PairingConsent.pairing_id == lonely.id))


@pytest.mark.parametrize(("who", "statements"), [("volunteer", 3), ("supervisor", 6), ("admin", 6)])
def test_board_statement_counts_are_pinned(app, client, login_as, count_queries, who, statements):
    """The board's statements, request included (the session): a volunteer's ids and totals in one, the cards with
    their members and both consents in one more (no selectin load of the consents); a supervisor or admin also
    reads the volunteer filter's choices, the card ids per column and the kept totals."""
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(3)
    admin = make_user("admin", branch=branch)
    db.session.commit()
    switch(client, login_as, {"volunteer": vol, "supervisor": sup, "admin": admin}[who])
    client.get("/pairings/board")
    with count_queries() as seen:
        html = client.get("/pairings/board").get_data(as_text=True)
    assert all(p.reference in html for p in pairings)
    assert len(seen) == statements, "\n".join(str(s)[:120] for s in seen)


def test_the_volunteer_filter_lists_the_branch_volunteers_by_name(app, client, login_as):
    """The board's volunteer drop-down (read as id/name rows): a supervisor gets the active volunteers of their
    branch in name order, an admin every branch's, a volunteer none (only their own caseload)."""
    with app.test_request_context():
        branch, vol, sup, man, pairings = _branch_with_pairings(1)
        other = make_user("volunteer", branch=branch, display_name="Aaron First")
        elsewhere = make_user("volunteer", branch=make_branch(), display_name="Zed Elsewhere")
        gone = make_user("volunteer", branch=branch, display_name="Gone Away")
        gone.is_active_user = False
    admin = make_user("admin", branch=branch)
    db.session.commit()

    def options():
        html = client.get("/pairings/board").get_data(as_text=True)
        select_ = re.search(r'<select[^>]*name="volunteer".*?</select>', html, re.S)
        return re.findall(r'<option[^>]*value="(\d+)"', select_.group(0)) if select_ else []

    switch(client, login_as, sup)
    in_branch = sorted([(other.display_name, other.id), (vol.display_name, vol.id)])
    assert options() == [str(uid) for _, uid in in_branch]
    switch(client, login_as, admin)
    assert str(elsewhere.id) in options() and str(gone.id) not in options()
    switch(client, login_as, vol)
    assert options() == []
