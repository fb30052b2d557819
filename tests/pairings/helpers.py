"""Builders for pairing tests: two volunteers, each with one member, and a pairing between them."""

from crm.extensions import db
from crm.members.models import Gender
from crm.pairings import services
from crm.pairings.models import ConsentAnswer, ConsentChannel, Pairing, Stage
from tests.factories import make_branch, make_member, make_user


def two_sides(**member_b_overrides):
    branch = make_branch()
    vol_a = make_user("volunteer", branch=branch)
    vol_b = make_user("volunteer", branch=branch)
    a = make_member(owner=vol_a, gender=Gender.MALE)
    b = make_member(owner=vol_b, gender=Gender.FEMALE, **member_b_overrides)
    return vol_a, vol_b, a, b


def proposed(**member_b_overrides):
    vol_a, vol_b, a, b = two_sides(**member_b_overrides)
    pairing = services.propose_pairing(a, b, vol_a)
    return pairing, vol_a, vol_b, a, b


def both_yes(pairing: Pairing, vol_a, vol_b, a, b, **shares):
    services.record_consent(pairing, a, ConsentAnswer.YES, ConsentChannel.PHONE, shares, vol_a)
    services.record_consent(pairing, b, ConsentAnswer.YES, ConsentChannel.WECHAT, shares, vol_b)
    assert pairing.stage is Stage.INTRODUCED
    db.session.flush()
