import re

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.members.models import Gender
from crm.pairings.models import ConsentAnswer, Pairing, Stage
from tests.factories import make_branch, make_member, make_user

MARKERS = {"name": "欧阳标记甲", "phone": "13799990001", "wechat_id": "wx_marker_zz9", "employer": "标记雇主公司XYZ"}


def switch(client, login_as, user):
    """Sign out whoever is signed in, then sign in as ``user``."""
    from tests.conftest import csrf_token

    if client.get("/login").status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    return login_as(user)


@pytest.fixture
def sides(db):
    branch = make_branch()
    vol_a = make_user("volunteer", branch=branch)
    vol_b = make_user("volunteer", branch=branch)
    a = make_member(owner=vol_a, gender=Gender.MALE, name="李建国")
    b = make_member(owner=vol_b, gender=Gender.FEMALE, **MARKERS)
    db.session.commit()
    return vol_a, vol_b, a, b


def _pages(client, pairing_id, member_id):
    urls = [f"/pairings/{pairing_id}", "/pairings/board", "/pairings/inbox", f"/members/{member_id}",
            "/followups/", "/followups/?show=done", "/pairings/board?show_closed=y",
            f"/pairings/propose/{member_id}", f"/pairings/propose/{member_id}?age_min=18"]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.get_data(as_text=True)
        fragment = client.get(url, headers={"HX-Request": "true"})
        pages[url + " (htmx)"] = fragment.get_data(as_text=True)
    return pages


def _consent(client, csrf, pairing_id, member_id, answer="yes", **shares):
    data = {"csrf_token": csrf(), "member_id": str(member_id), "answer": answer, "channel": "phone"}
    data.update({k: "y" for k, v in shares.items() if v})
    return client.post(f"/pairings/{pairing_id}/consent", data=data)


def test_a_pairing_from_proposal_to_dating_through_the_pages(client, login_as, csrf, sides):
    vol_a, vol_b, a, b = sides
    switch(client, login_as, vol_a)
    page = client.get(f"/pairings/propose/{a.id}").get_data(as_text=True)
    assert f"Candidate no. {b.id}" in page or str(b.id) in page
    assert MARKERS["name"] not in page and MARKERS["phone"] not in page
    response = client.post(f"/pairings/propose/{a.id}",
                           data={"csrf_token": csrf(), "member_id": b.id, "source": "manual"})
    assert response.status_code == 302, response.get_data(as_text=True)
    pairing = db.session.scalars(select(Pairing)).one()
    assert pairing.stage is Stage.AWAITING_CONSENT
    assert _consent(client, csrf, pairing.id, a.id, share_phone=True).status_code == 302
    assert _consent(client, csrf, pairing.id, b.id).status_code == 403  # not vol_a's member

    switch(client, login_as, vol_b)
    inbox = client.get("/pairings/inbox").get_data(as_text=True)
    assert f"/pairings/{pairing.id}" in inbox and "李建国" not in inbox
    assert _consent(client, csrf, pairing.id, b.id, share_wechat=True).status_code == 302
    db.session.expire_all()
    assert pairing.stage is Stage.INTRODUCED
    detail = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert "李先生" in detail and "138" in detail  # a shared phone, courtesy name

    response = client.post(f"/pairings/{pairing.id}/move",
                           data={"csrf_token": csrf(), "to": "dating", "version": pairing.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert pairing.stage is Stage.DATING


def test_the_other_volunteer_never_sees_the_other_members_identity_before_both_consent(
        client, login_as, csrf, sides):
    vol_a, vol_b, a, b = sides
    switch(client, login_as, vol_a)
    client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "member_id": b.id, "source": "manual"})
    pairing = db.session.scalars(select(Pairing)).one()
    _consent(client, csrf, pairing.id, a.id, share_phone=True)
    for url, html in _pages(client, pairing.id, a.id).items():
        for field, marker in MARKERS.items():
            assert marker not in html, (url, field)
    assert client.get(f"/members/{b.id}").status_code == 404

    switch(client, login_as, vol_b)
    _consent(client, csrf, pairing.id, b.id, share_wechat=True)  # shares WeChat only, not name/phone/employer
    switch(client, login_as, vol_a)
    pages = _pages(client, pairing.id, a.id)
    detail = pages[f"/pairings/{pairing.id}"]
    assert MARKERS["wechat_id"] in detail
    assert "欧女士" in detail
    for url, html in pages.items():
        for field in ("name", "phone", "employer"):
            assert MARKERS[field] not in html, (url, field)


def test_declining_closes_the_pairing(client, login_as, csrf, sides):
    vol_a, vol_b, a, b = sides
    switch(client, login_as, vol_a)
    client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "member_id": b.id, "source": "manual"})
    pairing = db.session.scalars(select(Pairing)).one()
    switch(client, login_as, vol_b)
    _consent(client, csrf, pairing.id, b.id, answer="no")
    db.session.expire_all()
    assert pairing.stage is Stage.CLOSED and pairing.consent_for(b).answer is ConsentAnswer.NO


def test_strangers_get_404_and_bad_moves_a_message(client, login_as, csrf, sides):
    vol_a, vol_b, a, b = sides
    switch(client, login_as, vol_a)
    client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "member_id": b.id, "source": "manual"})
    pairing = db.session.scalars(select(Pairing)).one()
    response = client.post(f"/pairings/{pairing.id}/move", data={"csrf_token": csrf(), "to": "married",
                                                                  "version": pairing.version},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Both members must say yes" in response.get_data(as_text=True)
    switch(client, login_as, make_user("volunteer"))
    db.session.commit()
    assert client.get(f"/pairings/{pairing.id}").status_code == 404


def test_board_is_at_most_three_statements_for_a_volunteer(client, login_as, csrf, count_queries, sides):
    vol_a, vol_b, a, b = sides
    from flask import current_app

    from crm.pairings import services
    with current_app.test_request_context():
        for _ in range(5):
            other = make_member(owner=vol_b, gender=Gender.FEMALE)
            services.propose_pairing(a, other, vol_a)
        db.session.commit()
    switch(client, login_as, vol_a)
    with count_queries() as statements:
        response = client.get("/pairings/board")
    assert response.status_code == 200
    assert len(re.findall(r'class="card"', response.get_data(as_text=True))) == 5
    assert len(statements) <= 3, statements
