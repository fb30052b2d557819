"""Moving a pairing on the board keeps you on the board (issue 11): htmx redraws the columns in place; without
JavaScript the POST comes back to the board with its filters. Closing an introduction asks first."""

import re

from crm.extensions import db
from crm.pairings.models import Pairing, Stage
from tests.conftest import csrf_token
from tests.pairings.helpers import both_yes, proposed

HTMX = {"HX-Request": "true"}


def _introduced(app, login_as):
    with app.test_request_context():
        pairing, vol_a, vol_b, a, b = proposed()
        both_yes(pairing, vol_a, vol_b, a, b)
    db.session.commit()
    login_as(vol_a)
    return pairing


def _column(fragment: str, stage: str) -> str:
    """The markup of one board column."""
    match = re.search(rf'<section class="board-column" aria-labelledby="col-{stage}">(.*?)</section>', fragment, re.S)
    assert match, stage
    return match.group(1)


def test_the_board_card_form_posts_in_place_with_htmx_and_keeps_the_filters(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    page = client.get("/pairings/board?source=manual&min_days=0").get_data(as_text=True)
    card = page[page.index(f'id="card-{pairing.id}"'):]
    card = card[:card.index("</form>")]
    assert f'hx-post="/pairings/{pairing.id}/move"' in card and 'hx-target="#board"' in card
    assert 'name="board_query" value="source=manual&amp;min_days=0"' in card
    more = client.get("/pairings/board/more?stage=introduced&start=0").get_data(as_text=True)
    assert f'action="/pairings/{pairing.id}/move"' in more and "hx-target=\"#board\"" not in more  # no board there


def test_without_javascript_a_move_comes_back_to_the_filtered_board(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    response = client.post(f"/pairings/{pairing.id}/move", data={
        "csrf_token": csrf_token(client), "to": "first_meeting", "version": pairing.version, "next": "board",
        "board_query": "source=manual&min_days=0&next=https://evil.example"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/pairings/board?") and "source=manual" in location and "min_days=0" in location
    assert "evil" not in location
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.FIRST_MEETING


def test_with_htmx_a_move_answers_with_the_board_redrawn_in_place(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    response = client.post(f"/pairings/{pairing.id}/move", headers=HTMX, follow_redirects=True, data={
        "csrf_token": csrf_token(client), "to": "first_meeting", "version": pairing.version, "next": "board"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="board"' in body  # the board, not a page
    assert f'id="card-{pairing.id}"' in _column(body, "first_meeting")
    assert f'id="card-{pairing.id}"' not in _column(body, "introduced")
    assert 'hx-swap-oob' in body and "flash-success" in body  # "Moved to …" reaches the live region
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.FIRST_MEETING


def test_with_htmx_a_refused_board_move_redraws_the_board_with_the_reason(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    stale = pairing.version - 1
    response = client.post(f"/pairings/{pairing.id}/move", headers=HTMX, follow_redirects=True, data={
        "csrf_token": csrf_token(client), "to": "first_meeting", "version": stale, "next": "board"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="board"' in body and "flash-error" in body
    assert f'id="card-{pairing.id}"' in _column(body, "introduced")
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED


def test_closing_an_introduction_asks_first_with_and_without_javascript(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    button = page[page.index('value="closed"'):]
    button = button[:button.index("</button>")]
    assert "hx-confirm=" in button and "hx-vals='{\"confirmed\": \"1\", \"to\": \"closed\"}'" in button
    data = {"csrf_token": csrf_token(client), "to": "closed", "close_reason": "lost_contact",
            "version": pairing.version, "note": "电话一直不通"}
    asked = client.post(f"/pairings/{pairing.id}/move", data=data)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'class="panel confirm-step"' in body
    assert 'name="confirmed" value="1"' in body and 'value="电话一直不通"' in body
    assert f'href="/pairings/{pairing.id}"' in body  # a way back
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.INTRODUCED
    done = client.post(f"/pairings/{pairing.id}/move", headers=HTMX, data={**data, "confirmed": "1"})
    assert done.status_code == 200 and 'id="pipeline"' in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Pairing, pairing.id).stage is Stage.CLOSED


def test_closing_without_a_reason_is_refused_before_any_question(app, client, db, login_as):
    pairing = _introduced(app, login_as)
    response = client.post(f"/pairings/{pairing.id}/move", headers=HTMX, data={
        "csrf_token": csrf_token(client), "to": "closed", "version": pairing.version})
    assert response.status_code == 422 and "confirm-step" not in response.get_data(as_text=True)
