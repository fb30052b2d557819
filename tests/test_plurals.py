"""Counts in English agree with their number: one of a thing reads in the singular (Chinese has one form)."""

from datetime import timedelta

from crm import clock
from tests import factories
from tests.conftest import csrf_token
from tests.pairings.helpers import proposed


def test_one_case_reassigned_and_one_pool_case_read_in_the_singular(client, db, login_as):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    moved, waiting = (factories.make_member(owner=None, branch=supervisor.branch) for _ in range(2))
    db.session.commit()
    assert "1 open case file has no volunteer." not in client.get("/members/team").get_data(as_text=True)
    response = client.post("/members/reassign", follow_redirects=True, data={
        "csrf_token": csrf_token(client), "member_ids": [str(moved.id)], "to_user_id": str(volunteer.id),
        "reason": "新会员分配", "confirmed": "1", "next": "/members/team"})
    page = response.get_data(as_text=True)
    assert "1 case reassigned." in page and "1 open case file has no volunteer." in page, page
    assert ">Assign it</a>" in page and "Assign them" not in page
    assert waiting.owner_id is None


def test_a_pool_of_two_reads_in_the_plural_and_an_empty_pool_offers_nothing_to_assign(client, db, login_as):
    supervisor = login_as("supervisor")
    team = client.get("/members/team").get_data(as_text=True)
    assert "Every open case file has a volunteer." in team and "owner=pool" not in team
    for _ in range(2):
        factories.make_member(owner=None, branch=supervisor.branch)
    db.session.commit()
    team = client.get("/members/team").get_data(as_text=True)
    assert "2 open case files have no volunteer." in team and ">Assign them</a>" in team


def test_a_card_one_day_in_its_stage_says_one_day(client, db, login_as):
    with clock.as_of(clock.now_utc() - timedelta(days=1, hours=1)):
        pairing, vol_a, *_ = proposed()
    db.session.commit()
    login_as(vol_a)
    board = client.get("/pairings/board").get_data(as_text=True)
    assert pairing.reference in board and "1 day in stage" in board and "1 days" not in board


def test_a_candidate_with_one_child_reads_one_child(client, db, login_as):
    from crm.members.models import MaritalHistory

    pairing, vol_a, *_ = proposed(marital_history=MaritalHistory.DIVORCED, children_count=1)
    db.session.commit()
    login_as(vol_a)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert "1 child<" in page and "1 children" not in page
