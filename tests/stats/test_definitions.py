"""Every counter on constructed data (tests/stats/scene.py) with the numbers worked out by hand."""

import pytest

from crm.stats import definitions
from crm.stats.definitions import Period
from tests.stats import scene
from tests.stats.scene import APRIL, JUNE, MARCH, MAY


@pytest.fixture
def s(db):
    return scene.build()


def counts(period, branch=None):
    return {f.counter.key: f.value for f in definitions.figures(period, branch.id if branch else None)}


# March, by hand (union / branch A / branch B):
# members served: notes P (a5 in A, b3 in B; one person), stage moves of p1 (a1, a2), p2 (a3, b1),
#   p3 (a4, b2) -> union a1 a2 a3 a4 b1 b2 P = 7; A: a1 a2 a3 a4 a5 = 5; B: b1 b2 b3 = 3.
# active members (opened before April, active today): a1 a3 a4 b1 b2 P (a2 closed, c1 paused,
#   d1 opened in April) -> union 6; A: a1 a3 a4 a5 = 4; B: b1 b2 b3 = 3.
# proposed: p2 (1 Mar 00:00), p3 (31 Mar) -> 2 everywhere; p1 in February, p4 at 1 Apr 00:00.
# introductions: p1 (5 Mar), p2 (31 Mar 23:59:59) -> union 2, A 2, B 1.
# dating a month: none completed in March (p1's two March spells closed within 30 days).
# relationships: p1 (20 Mar) -> A 1, B 0. engagements, marriages: 0.
# events held: the 10 March event (A organises, B co-hosts) -> 1 everywhere; attendances 2.
# counselling sessions: A 1 Mar + 31 Mar, B 10 Mar -> union 3, A 2, B 1.
MARCH_UNION = {"members_served": 7, "active_members": 6, "pairings_proposed": 2, "introductions": 2,
               "dating_a_month": 0, "relationships": 1, "engagements": 0, "marriages": 0,
               "counselling_sessions": 3, "events_held": 1, "attendances": 2}


def test_march_union_wide(s):
    assert counts(MARCH) == MARCH_UNION


def test_march_by_branch_counts_person_and_pair_in_each_branch(s):
    assert counts(MARCH, s.A) == {**MARCH_UNION, "members_served": 5, "active_members": 4,
                                  "counselling_sessions": 2}
    assert counts(MARCH, s.B) == {**MARCH_UNION, "members_served": 3, "active_members": 3, "introductions": 1,
                                  "relationships": 0, "counselling_sessions": 1}


def test_april_back_and_forth_counts_once(s):
    # p2 was introduced again on 3 Apr after a reopening: already counted in March, not again.
    # p1 got back to relationship (5 Apr) after a close: counted in March. Engaged 10 Apr: 1.
    # proposed: p4 at 1 Apr 00:00. Events: the 1 April one (B); attendance 1 (b2).
    april = counts(APRIL)
    assert april["introductions"] == 0
    assert april["relationships"] == 0
    assert april["engagements"] == 1
    assert april["pairings_proposed"] == 1
    assert april["events_held"] == 1 and april["attendances"] == 1
    assert april["counselling_sessions"] == 1
    assert counts(APRIL, s.A)["events_held"] == 0


def test_dating_a_month_counts_the_first_spell_that_lasted(s):
    # p1: spells from 6 Mar (closed 10 Mar) and 12 Mar (closed 2 Apr) fail; the one from 5 Apr lasts:
    # its month ends 5 May. p2: dating since 4 Apr, never closed: its month ends 4 May.
    assert definitions.count("dating_a_month", MAY, None) == 2
    assert definitions.count("dating_a_month", MAY, s.B.id) == 1
    assert definitions.count("dating_a_month", APRIL, None) == 0
    assert definitions.count("dating_a_month", JUNE, None) == 0


def test_marriage_counts_once(s):
    assert definitions.count("marriages", JUNE, None) == 1
    assert definitions.count("marriages", Period(MARCH.start, JUNE.end), None) == 1
    # Over March-June, each pair still counts once for every stage.
    whole = counts(Period(MARCH.start, JUNE.end))
    assert whole["introductions"] == 2 and whole["relationships"] == 1 and whole["engagements"] == 1


def test_each_counter_has_words_and_one_statement(s, count_queries):
    keys = [c.key for c in definitions.all_counters()]
    assert len(keys) == len(set(keys)) == 11
    for c in definitions.all_counters():
        assert len(str(c.definition)) > 40 and str(c.label)
    with count_queries() as statements:
        definitions.figures(MARCH, s.A.id)
    assert len(statements) == 1
