"""The counselling rules of crm.auth.policy, as a table: who may do what with the seeded referral."""

import pytest

from crm.auth import policy
from crm.counselling.models import CaseShare
from crm.extensions import db

WHO = ["owner", "other_volunteer", "supervisor", "far_supervisor", "admin", "author", "other_counsellor",
       "far_counsellor"]

# rule -> the people for whom it holds on the accepted referral of the world (everyone else: False)
ACCEPTED = {
    "view": {"owner", "supervisor", "admin", "author"},
    "profile": {"author"},
    "accept": set(),
    "assign": {"supervisor", "admin"},
    "close": {"supervisor", "admin", "author"},
    "log": {"author"},
    "share": {"author"},
    "notes": {"author"},
}
QUEUED = {
    "view": {"owner", "supervisor", "admin", "author", "other_counsellor"},
    "profile": {"author", "other_counsellor"},
    "accept": {"author", "other_counsellor"},
    "assign": {"supervisor", "admin"},
    "close": {"supervisor", "admin"},
    "log": set(),
    "share": set(),
}


def _check(rule, user, referral, session=None):
    return {
        "view": lambda: policy.can_view_referral(user, referral),
        "profile": lambda: policy.can_view_member_profile(user, referral),
        "accept": lambda: policy.can_accept_referral(user, referral),
        "assign": lambda: policy.can_assign_referral(user, referral),
        "close": lambda: policy.can_close_referral(user, referral),
        "log": lambda: policy.can_log_session(user, referral),
        "share": lambda: policy.can_share_case(user, referral),
        "notes": lambda: policy.can_read_session_notes(user, session, referral),
    }[rule]()


@pytest.mark.parametrize("rule", list(ACCEPTED))
@pytest.mark.parametrize("who", WHO)
def test_rules_on_an_accepted_referral(world, rule, who):
    assert _check(rule, world.user(who), world.referral, world.session) is (who in ACCEPTED[rule])


@pytest.mark.parametrize("rule", list(QUEUED))
@pytest.mark.parametrize("who", WHO)
def test_rules_on_a_referral_waiting_in_the_queue(world, rule, who):
    assert _check(rule, world.user(who), world.queued) is (who in QUEUED[rule])


def test_a_shared_case_opens_notes_and_profile_but_no_session_logging_to_the_other_counsellor(world):
    db.session.add(CaseShare(referral_id=world.referral.id, counsellor_id=world.far_counsellor.id,
                             shared_by_id=world.author.id))
    db.session.flush()
    db.session.refresh(world.referral)
    who = world.far_counsellor
    assert policy.can_view_referral(who, world.referral) and policy.can_view_member_profile(who, world.referral)
    assert policy.can_read_session_notes(who, world.session, world.referral)
    assert not policy.can_log_session(who, world.referral) and not policy.can_close_referral(who, world.referral)
    assert not policy.can_edit_member(who, world.member) and not policy.can_view_member(who, world.member)


@pytest.mark.parametrize(("who", "allowed"), [("supervisor", True), ("far_supervisor", False), ("admin", False),
                                              ("author", False), ("owner", False)])
def test_who_acknowledges_a_risk_alert(world, who, allowed):
    assert policy.can_acknowledge_risk(world.user(who), world.alert) is allowed


@pytest.mark.parametrize(("who", "allowed"), [("owner", True), ("other_volunteer", False), ("supervisor", True),
                                              ("far_supervisor", False), ("admin", True), ("author", False)])
def test_who_refers_a_member(world, who, allowed):
    assert policy.can_refer_member(world.user(who), world.member) is allowed
