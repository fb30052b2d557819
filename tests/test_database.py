"""Numbers no record id can have: "not found", never a database error (PostgreSQL keys are 32-bit)."""

import pytest
from flask import url_for

from crm.auth.models import Role
from crm.database import MAX_ID, as_id
from tests import dbstate, factories
from tests.auth.test_policy import _int_routes

BEYOND = [MAX_ID + 1, 2**32, 10**15]


@pytest.mark.parametrize(("value", "expected"), [
    ("1", 1), (" 42 ", 42), (7, 7), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("0", None), ("-3", None),
    ("", None), (None, None), ("abc", None), ("²", None), ("１２", None), ("9" * 40, None), ("1.5", None),
])
def test_as_id(value, expected):
    assert as_id(value) == expected


@pytest.mark.parametrize("route", list(_int_routes()))
def test_ids_just_beyond_32_bits_are_not_found(app, client, db, login_as, csrf, route):
    login_as(factories.make_user(Role.VOLUNTEER | Role.COUNSELLOR | Role.SUPERVISOR | Role.ADMIN))
    token = csrf()
    values = {name: MAX_ID + 1 if name in route.int_arguments else "x" for name in route.arguments}
    with app.test_request_context():
        url = url_for(route.endpoint, **values)
    before = dbstate.contents()
    response = client.open(url, method=route.method, data={"csrf_token": token} if route.method != "GET" else None)
    assert response.status_code == 404
    assert dbstate.contents() == before


@pytest.mark.parametrize("huge", BEYOND)
def test_search_by_an_impossible_owner_finds_nobody(client, login_as, huge):
    volunteer = login_as("volunteer")
    factories.make_member(owner=volunteer)
    factories.make_member(owner=None, branch=volunteer.branch)
    response = client.get(f"/members/search?owner={huge}")
    assert response.status_code == 200
    assert "0 members" in response.get_data(as_text=True) or 'class="empty"' in response.get_data(as_text=True)


@pytest.mark.parametrize("huge", BEYOND)
def test_bulk_reassign_of_an_impossible_member_is_refused(client, db, login_as, csrf, huge):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    member = factories.make_member(owner=None, branch=supervisor.branch)
    db.session.commit()
    before = dbstate.contents()
    response = client.post("/members/reassign", data={
        "csrf_token": csrf(), "member_ids": [str(member.id), str(huge)], "to_user_id": str(volunteer.id),
        "reason": "分配", "next": "/members/search?owner=pool"})
    assert response.status_code == 422
    assert dbstate.contents() == before


@pytest.mark.parametrize("huge", BEYOND)
def test_card_batch_ignores_impossible_ids(client, login_as, csrf, huge):
    login_as("volunteer")
    response = client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": [str(huge)]})
    assert response.status_code < 500
