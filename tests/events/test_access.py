"""Role × route on real records: who may open or use each event page (the URL-map walk in
tests/auth/test_policy.py covers unknown ids and denied roles with nothing written)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.clock import now_utc
from crm.events import services
from crm.events.models import EventRegistration, EventStatus, RegistrationStatus
from tests.events.helpers import before_start, make_event
from tests.factories import make_member, make_user

WHO = ["owner", "colleague", "other_volunteer", "host_supervisor", "other_supervisor", "admin", "counsellor"]

# (method, url template, {who: expected status}); default for anyone not named: see DEFAULTS.
CASEWORK_OK = {"counsellor": 403}
RUN = {"owner": 200, "colleague": 200, "host_supervisor": 200, "admin": 200,
       "other_volunteer": 404, "other_supervisor": 404, "counsellor": 403}
MANAGE = {"host_supervisor": 200, "admin": 200, "other_supervisor": 404,
          "owner": 403, "colleague": 403, "other_volunteer": 403, "counsellor": 403}
CHOICES = {"owner": 200, "host_supervisor": 200, "admin": 200, "colleague": 404, "other_volunteer": 404,
           "other_supervisor": 404, "counsellor": 403}
TABLE = [
    ("GET", "/events/", {w: 200 for w in WHO} | CASEWORK_OK),
    ("GET", "/events/new", {"host_supervisor": 200, "other_supervisor": 200, "admin": 200, "owner": 403,
                            "colleague": 403, "other_volunteer": 403, "counsellor": 403}),
    ("GET", "/events/{event}", {w: 200 for w in WHO} | CASEWORK_OK),
    ("GET", "/events/{event}/edit", MANAGE),
    ("GET", "/events/{event}/door?q=1", RUN),
    ("GET", "/events/{event}/report", RUN),
    ("GET", "/events/{event}/badges.pdf", RUN),
    ("GET", "/events/{event}/choices/{reg}", CHOICES),
    ("POST", "/events/{event}/door/check-in", {**RUN, "owner": 302, "colleague": 302, "host_supervisor": 302,
                                               "admin": 302}),
    ("POST", "/events/{event}/status", {**MANAGE, "host_supervisor": 302, "admin": 302}),
    ("POST", "/events/{event}/cancel", {"owner": 302, "host_supervisor": 302, "admin": 302, "colleague": 404,
                                        "other_volunteer": 404, "other_supervisor": 404, "counsellor": 403}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, template, expected", TABLE, ids=[f"{m} {t}" for m, t, _ in TABLE])
def test_role_by_route(client, login_as, csrf, db, who, method, template, expected):
    host_supervisor = make_user("supervisor")
    branch = host_supervisor.branch
    owner = make_user("volunteer", branch=branch)
    people = {"owner": owner, "colleague": make_user("volunteer", branch=branch),
              "other_volunteer": make_user("volunteer"), "host_supervisor": host_supervisor,
              "other_supervisor": make_user("supervisor"), "admin": make_user("admin"),
              "counsellor": make_user("counsellor", branch=branch)}
    event = make_event(branch, starts_at=now_utc() - timedelta(hours=1), ends_at=now_utc() + timedelta(hours=2))
    with before_start(event):  # the event is on (the door is open), its sign-ups were made before
        reg = services.register(event, make_member(owner=owner), owner)
    db.session.commit()
    login_as(people[who])
    url = template.format(event=event.id, reg=reg.id)
    data = {"csrf_token": csrf(), "registration_id": reg.id, "status": EventStatus.CLOSED.value, "confirmed": "1"}
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    assert response.status_code == expected[who], (who, url, response.status_code)
    if method == "POST" and response.status_code >= 400:
        db.session.expire_all()
        fresh = db.session.get(EventRegistration, reg.id)
        assert fresh.status is RegistrationStatus.REGISTERED and fresh.event.status is EventStatus.OPEN


def test_register_only_own_members(client, login_as, csrf, db):
    owner = make_user("volunteer")
    colleague = make_user("volunteer", branch=owner.branch)
    event = make_event(owner.branch)
    member = make_member(owner=owner)
    db.session.commit()
    login_as(colleague)
    response = client.post(f"/events/{event.id}/register", data={"csrf_token": csrf(), "member_id": member.id})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 0
