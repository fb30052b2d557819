"""A member who withdraws consent to sharing their profile (or to data processing) stops being shared at once:
no candidate listing, no new proposal, and on an introduction already made the other side sees a note instead of
the profile and contacts, and gets no cards. Their own volunteer still sees them in full."""

import pytest
from sqlalchemy import func, select

from crm.auth import policy
from crm.extensions import db
from crm.members.models import Gender
from crm.pairings.models import Pairing
from crm.privacy import services as privacy
from tests.factories import make_branch, make_member, make_user
from tests.pairings.helpers import both_yes, proposed
from tests.pairings.test_pages import switch

MARKS = {"name": "欧阳标记", "phone": "13799990001", "wechat_id": "wx_marker_zz9", "self_intro": "INTRO_MARK_B",
         "employer": "标记机械厂"}
PURPOSES = ["sharing", "processing"]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_member_who_withdrew_is_no_candidate_and_cannot_be_proposed(app, client, login_as, csrf, purpose):
    with app.test_request_context():
        branch = make_branch()
        vol_a, vol_b = make_user("volunteer", branch=branch), make_user("volunteer", branch=branch)
        a = make_member(owner=vol_a, gender=Gender.MALE)
        b = make_member(owner=vol_b, gender=Gender.FEMALE, self_intro=MARKS["self_intro"])
    db.session.commit()
    switch(client, login_as, vol_a)
    assert f"Candidate no. {b.id}" in client.get(f"/pairings/propose/{a.id}").get_data(as_text=True)
    with app.test_request_context():
        privacy.record_consent(b, purpose, False, "phone", vol_b)
    db.session.commit()
    page = client.get(f"/pairings/propose/{a.id}").get_data(as_text=True)
    assert f"Candidate no. {b.id}" not in page and MARKS["self_intro"] not in page
    response = client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "source": "manual",
                                                             "member_id": str(b.id)})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = body[body.index('id="member_id-error"'):]
    assert "withdrawn consent to data processing or to sharing their profile" in error[:error.index("</p>")]
    assert db.session.scalar(select(func.count(Pairing.id))) == 0


def _introduced_then_withdrawn(app, purpose):
    with app.test_request_context():
        pairing, vol_a, vol_b, a, b = proposed(**MARKS, photo_path="b.jpg", photo_consent=True)
        both_yes(pairing, vol_a, vol_b, a, b, share_full_name=True, share_phone=True, share_wechat=True,
                 share_employer=True, share_photo=True)
        assert policy.can_see_photo(vol_a, b, pairing)
        privacy.record_consent(b, purpose, False, "phone", vol_b, comment="no longer wants to be shown")
    db.session.commit()
    return pairing, vol_a, vol_b, a, b


@pytest.mark.parametrize("purpose", PURPOSES)
def test_after_withdrawal_the_other_side_sees_a_note_instead_of_the_profile(app, client, login_as, purpose):
    pairing, vol_a, vol_b, a, b = _introduced_then_withdrawn(app, purpose)
    switch(client, login_as, vol_a)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert f'id="profile-withheld-{b.id}"' in page
    assert "has withdrawn consent to sharing their profile" in page
    assert not [k for k, v in MARKS.items() if v in page]
    assert "欧女士" not in page and f"/members/{b.id}/photo" not in page
    for url in ("/pairings/board", f"/members/{a.id}"):  # the board's card and A's case file panel name B too
        shown = client.get(url).get_data(as_text=True)
        assert MARKS["name"] not in shown and "欧女士" not in shown and "profile not shared" in shown, url
    with app.test_request_context():
        assert not policy.can_see_photo(vol_a, db.session.get(type(b), b.id), db.session.get(Pairing, pairing.id))

    switch(client, login_as, vol_b)  # B's own volunteer still sees B in full
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert MARKS["name"] in page and "has withdrawn consent to sharing their profile" not in page


@pytest.mark.parametrize("purpose", PURPOSES)
def test_after_withdrawal_no_cards_are_printed_and_the_page_says_why(app, client, login_as, purpose):
    pairing, vol_a, vol_b, a, b = _introduced_then_withdrawn(app, purpose)
    for user in (vol_a, vol_b):
        switch(client, login_as, user)
        response = client.get(f"/pairings/{pairing.id}/cards.pdf")
        assert response.status_code == 403 and response.mimetype != "application/pdf"
        assert "withdrawn consent to sharing their profile; its cards can no longer be printed" in (
            response.get_data(as_text=True))
        assert 'id="print-cards"' not in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
        assert pairing.reference not in client.get("/cards").get_data(as_text=True)
