"""Role x route for the counselling routes, on real records: who gets in, who is refused, and a
refused request writes nothing."""

from datetime import timedelta

import pytest

from crm.clock import today
from tests import dbstate

URLS = {
    "referral": "/counselling/referrals/{referral}",
    "profile": "/counselling/referrals/{referral}/profile",
    "profile_queued": "/counselling/referrals/{queued}/profile",
    "accept": "/counselling/referrals/{queued}/accept",
    "accept_taken": "/counselling/referrals/{referral}/accept",
    "assign": "/counselling/referrals/{queued}/assign",
    "close": "/counselling/referrals/{referral}/close",
    "log_session": "/counselling/referrals/{referral}/sessions/new",
    "log_session_queued": "/counselling/referrals/{queued}/sessions/new",
    "share": "/counselling/referrals/{referral}/share",
    "alerts": "/counselling/alerts",
    "acknowledge": "/counselling/alerts/{alert}/acknowledge",
    "refer": "/counselling/members/{member}/refer",
    "home": "/counselling/",
}

ALLOWED_PAGES = [
    ("referral", "owner"), ("referral", "supervisor"), ("referral", "admin"), ("referral", "author"),
    ("profile", "author"), ("profile_queued", "other_counsellor"), ("log_session", "author"),
    ("alerts", "supervisor"), ("refer", "owner"), ("refer", "supervisor"), ("refer", "admin"), ("home", "author"),
]

DENIED = [  # page, method, role, status
    ("referral", "GET", "other_volunteer", 404), ("referral", "GET", "far_supervisor", 404),
    ("referral", "GET", "other_counsellor", 404), ("referral", "GET", "far_counsellor", 404),
    ("profile", "GET", "other_counsellor", 404), ("profile", "GET", "owner", 403),
    ("profile", "GET", "supervisor", 403), ("profile", "GET", "admin", 403),
    ("profile_queued", "GET", "far_counsellor", 404),
    ("accept", "POST", "owner", 403), ("accept", "POST", "supervisor", 403), ("accept", "POST", "far_counsellor", 404),
    ("accept_taken", "POST", "author", 403),
    ("assign", "POST", "author", 403), ("assign", "POST", "owner", 403), ("assign", "POST", "far_supervisor", 404),
    ("close", "POST", "owner", 403), ("close", "POST", "other_counsellor", 404),
    ("close", "POST", "far_supervisor", 404),
    ("log_session", "GET", "supervisor", 403), ("log_session", "POST", "supervisor", 403),
    ("log_session", "POST", "owner", 403), ("log_session", "POST", "admin", 403),
    ("log_session", "POST", "other_counsellor", 404), ("log_session_queued", "POST", "author", 403),
    ("share", "POST", "other_counsellor", 404), ("share", "POST", "supervisor", 403),
    ("alerts", "GET", "author", 403), ("alerts", "GET", "owner", 403), ("alerts", "GET", "admin", 403),
    ("acknowledge", "POST", "author", 403), ("acknowledge", "POST", "admin", 403),
    ("acknowledge", "POST", "far_supervisor", 404), ("acknowledge", "POST", "owner", 403),
    ("refer", "POST", "author", 403), ("refer", "POST", "other_volunteer", 404),
    ("refer", "POST", "far_supervisor", 404), ("home", "GET", "owner", 403), ("home", "GET", "supervisor", 403),
]


def _url(world, page):
    return URLS[page].format(referral=world.referral.id, queued=world.queued.id, alert=world.alert.id,
                             member=world.member.id)


def _form(world, page):
    """Data that would succeed if the permission check were missing."""
    return {
        "assign": {"counsellor_id": str(world.author.id)},
        "close": {"outcome": "越权关闭"},
        "log_session": {"held_on": (today() - timedelta(days=1)).isoformat(), "duration_minutes": "30",
                        "mode": "phone", "topic": "other", "confidential_notes": "越权", "risk": "high"},
        "share": {"counsellor_id": str(world.other_counsellor.id)},
        "refer": {"reason": "越权转介", "consent": "y", "consent_channel": "phone"},
    }.get(page.removesuffix("_queued").removesuffix("_taken"), {})


@pytest.mark.parametrize(("page", "role"), ALLOWED_PAGES)
def test_allowed_roles_open_the_counselling_pages(world, sign_in, page, role):
    response = sign_in(world.user(role)).get(_url(world, page))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("page", "method", "role", "status"), DENIED,
                         ids=[f"{p}-{m}-{r}" for p, m, r, _s in DENIED])
def test_denied_counselling_requests_are_refused_and_write_nothing(world, sign_in, page, method, role, status):
    client = sign_in(world.user(role))
    before = dbstate.contents()
    if method == "GET":
        response = client.get(_url(world, page))
    else:
        response = client.post(_url(world, page), data={**_form(world, page), "csrf_token": client.token})
    assert response.status_code == status
    assert dbstate.contents() == before


def test_a_fragment_request_of_a_denied_page_gets_no_page(world, sign_in):
    response = sign_in(world.other_volunteer).get(_url(world, "referral"), headers={"HX-Request": "true"})
    assert response.status_code == 404 and world.member.name not in response.get_data(as_text=True)
