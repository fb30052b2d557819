"""Choices are entered days after a mixer. A mutual choice becomes an introduction only while both members are
still free to meet someone; otherwise the choice is saved, waits, and tells the other side nothing."""

import pytest
from sqlalchemy import select

from crm.members.models import CloseReason, Gender, MemberStatus
from crm.members.services import set_status
from crm.pairings import pipeline
from crm.pairings.models import Pairing, PairingCloseReason, Stage
from crm.pairings.services import propose_pairing
from tests.events.helpers import enter_choices
from tests.factories import make_member
from tests.pairings.helpers import both_yes


def _ann_in_a_relationship_with_fred(app, db, s):
    ann = s["people"]["ann"]
    with app.test_request_context():
        fred = make_member(owner=s["vb"], gender=Gender.MALE, branch=ann.branch)
        relationship = propose_pairing(ann, fred, s["va"])
        both_yes(relationship, s["va"], s["vb"], ann, fred)
        pipeline.move(relationship, Stage.RELATIONSHIP, s["va"])
    db.session.commit()
    return relationship


def _pairings_of(db, member):
    return [p for p in db.session.scalars(select(Pairing).order_by(Pairing.id))
            if member.id in (p.member_low_id, p.member_high_id)]


def _choose_each_other(client, login_as, csrf, s):
    """Ann's volunteer enters Ann's choice of Carl; Carl's volunteer enters Carl's of Ann. The second response."""
    login_as(s["va"])
    assert enter_choices(client, csrf, s, "ann", str(s["regs"]["carl"].badge_number)).status_code == 302
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(s["vb"])
    return enter_choices(client, csrf, s, "carl", str(s["regs"]["ann"].badge_number))


def test_a_mutual_choice_waits_while_one_member_is_in_a_relationship(client, login_as, csrf, held_event, db, app):
    s = held_event
    ann, carl = s["people"]["ann"], s["people"]["carl"]
    relationship = _ann_in_a_relationship_with_fred(app, db, s)

    response = _choose_each_other(client, login_as, csrf, s)
    assert response.status_code == 302
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choices saved." in flashed and "became introductions" not in flashed
    assert _pairings_of(db, carl) == [] and _pairings_of(db, ann) == [relationship]
    assert ann.status is MemberStatus.IN_RELATIONSHIP and relationship.stage is Stage.RELATIONSHIP

    # Carl's volunteer learns nothing of Ann's relationship from Carl's choices page.
    page = client.get(f"/events/{s['event'].id}/choices/{s['regs']['carl'].id}").get_data(as_text=True)
    assert "relationship" not in page.lower()

    # The relationship ends; the next save of either side's choices introduces them.
    with app.test_request_context():
        pipeline.move(relationship, Stage.CLOSED, s["va"], close_reason=PairingCloseReason.ENDED_BY_MEMBER)
    db.session.commit()
    assert enter_choices(client, csrf, s, "carl", str(s["regs"]["ann"].badge_number)).status_code == 302
    made = _pairings_of(db, carl)
    assert len(made) == 1 and made[0].stage is Stage.INTRODUCED


@pytest.mark.parametrize("status", [MemberStatus.PAUSED, MemberStatus.CLOSED])
def test_a_mutual_choice_makes_no_introduction_for_a_paused_or_closed_case(client, login_as, csrf, held_event, db,
                                                                           app, status):
    s = held_event
    ann, carl = s["people"]["ann"], s["people"]["carl"]
    with app.test_request_context():
        set_status(ann, status, by=s["va"], close_reason=CloseReason.WITHDREW)
    db.session.commit()

    assert _choose_each_other(client, login_as, csrf, s).status_code == 302
    assert _pairings_of(db, carl) == [] and ann.status is status


@pytest.mark.parametrize("purpose", ["sharing", "processing"])
def test_a_mutual_choice_waits_while_one_member_has_withdrawn_consent_to_sharing(client, login_as, csrf, held_event,
                                                                                 db, app, purpose):
    from crm.privacy.services import record_consent

    s = held_event
    ann, carl = s["people"]["ann"], s["people"]["carl"]
    with app.test_request_context():
        record_consent(ann, purpose, False, "phone", s["va"])
    db.session.commit()
    assert _choose_each_other(client, login_as, csrf, s).status_code == 302
    assert _pairings_of(db, carl) == []

    with app.test_request_context():  # she consents again: the next save introduces them
        record_consent(ann, purpose, True, "phone", s["va"])
    db.session.commit()
    assert enter_choices(client, csrf, s, "carl", str(s["regs"]["ann"].badge_number)).status_code == 302
    made = _pairings_of(db, carl)
    assert len(made) == 1 and made[0].stage is Stage.INTRODUCED
