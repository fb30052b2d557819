"""Random sequences of consents and moves never break the pipeline's invariants."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.errors import Refusal
from crm.members.models import CloseReason, MemberStatus
from crm.pairings import pipeline, services
from crm.pairings.models import (
    ConsentAnswer,
    ConsentChannel,
    Pairing,
    PairingCloseReason,
    Source,
    Stage,
)
from tests.factories import make_user
from tests.pairings.helpers import proposed, two_sides

actions = st.lists(st.one_of(
    st.tuples(st.just("propose again"), st.booleans()),
    st.tuples(st.just("consent"), st.sampled_from("ab"), st.sampled_from([ConsentAnswer.YES, ConsentAnswer.NO])),
    st.tuples(st.just("move"), st.sampled_from(list(Stage)),
              st.sampled_from(["vol_a", "vol_b", "supervisor", "stranger"]),
              st.sampled_from([None, *PairingCloseReason])),
), max_size=12)


def _check_invariants(pairing):
    a, b = pairing.members
    if pairing.stage.is_introduced_or_later:
        assert pairing.both_consented
    if pairing.stage is Stage.MARRIED:
        assert a.status is b.status is MemberStatus.CLOSED
        assert a.close_reason is b.close_reason is CloseReason.MARRIED
    if pairing.stage in (Stage.RELATIONSHIP, Stage.ENGAGED):
        assert a.status is b.status is MemberStatus.IN_RELATIONSHIP
    if any(c.answer is ConsentAnswer.NO for c in pairing.consents) and pairing.history[-1].to_stage is Stage.CLOSED:
        assert pairing.stage is Stage.CLOSED
    assert [h.to_stage for h in pairing.history][-1] is pairing.stage


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_random_move_sequences_keep_the_invariants(db, app, ctx, steps):
    pairing, vol_a, vol_b, a, b = proposed()
    users = {"vol_a": vol_a, "vol_b": vol_b, "supervisor": make_user("supervisor", branch=a.branch),
             "stranger": make_user("volunteer")}
    for step in steps:
        before = (pairing.stage, pairing.version, len(pairing.history))
        try:
            if step[0] == "propose again":  # in either order, whatever the stage: always refused
                first, second = (a, b) if step[1] else (b, a)
                with pytest.raises(Refusal):
                    services.propose_pairing(first, second, first.owner)
                raise Refusal("refused as expected")
            if step[0] == "consent":
                member, user = (a, vol_a) if step[1] == "a" else (b, vol_b)
                services.record_consent(pairing, member, step[2], ConsentChannel.PHONE, {}, user)
            else:
                pipeline.move(pairing, step[1], users[step[2]], note="因为", close_reason=step[3])
        except Refusal as refusal:
            assert str(refusal.message)
            db.session.flush()
            assert (pairing.stage, pairing.version, len(pairing.history)) == before
        _check_invariants(pairing)
        assert db.session.scalar(select(func.count(Pairing.id))) == 1
    db.session.rollback()


@pytest.mark.parametrize("reverse", [False, True])
def test_the_database_refuses_a_second_pairing_of_the_same_two_members(db, app, ctx, reverse):
    pairing, vol_a, vol_b, a, b = proposed()
    db.session.commit()
    low, high = (b.id, a.id) if reverse else (pairing.member_low_id, pairing.member_high_id)
    db.session.add(Pairing(member_low_id=low, member_high_id=high, proposed_by_id=vol_a.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_declined_pair_is_never_proposed_again(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    services.record_consent(pairing, b, ConsentAnswer.NO, ConsentChannel.PHONE, {}, vol_b)
    assert pairing.stage is Stage.CLOSED and pairing.close_reason is PairingCloseReason.DECLINED
    with pytest.raises(Refusal, match="never proposed twice"):
        services.propose_pairing(b, a, vol_b, Source.MANUAL)


def test_proposal_refuses_same_gender_and_unverified(db, app, ctx):
    vol_a, vol_b, a, b = two_sides()
    b.gender = a.gender
    with pytest.raises(Refusal):
        services.propose_pairing(a, b, vol_a)
    vol_a, vol_b, a, b = two_sides(verified=False)
    with pytest.raises(Refusal, match="verified and active"):
        services.propose_pairing(a, b, vol_a)
