"""Each hard filter, both ways, and the order in which "why not?" names them."""

import subprocess
import sys
from dataclasses import replace

import pytest

from crm.matching.filters import FILTER_NAMES, Context, Rules, failures, first_failure, passes
from crm.matching.profile import DIVORCED, WIDOWED
from tests.matching.helpers import person, with_prefs

A, B = person(1, "male"), person(2, "female")


def test_importing_the_engine_imports_neither_flask_nor_sqlalchemy():
    code = ("import sys, crm.matching, crm.matching.index, crm.matching.reference, crm.matching.synthetic;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_babel', 'sqlalchemy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_eligible_pair_passes():
    assert passes(A, B) and first_failure(A, B) is None


# (change to the candidate, change to the member, expected code); each case is tried on the
# candidate (side "candidate") and, mirrored, on the member (side "member").
ONE_WAY = [
    ("inactive", dict(active=False)),
    ("unverified", dict(verified=False)),
    ("no_consent", dict(consented=False)),
    ("in_relationship", dict(in_relationship_or_later=True)),
    ("opted_out", dict(opted_out=True)),
    ("open_limit", dict(open_introductions=1)),
]


@pytest.mark.parametrize("code,change", ONE_WAY)
def test_status_filters_apply_to_either_side(code, change):
    reason = first_failure(A, replace(B, **change))
    assert (reason.code, reason.side) == (code, "candidate")
    reason = first_failure(replace(A, **change), B)
    assert (reason.code, reason.side) == (code, "member")


def test_same_person_and_same_gender():
    assert first_failure(A, A).code == "same_person"
    assert first_failure(A, person(3, "male")).code == "gender"


def test_never_paired_twice_whatever_the_order_of_ids():
    ctx = Context(excluded_pairs=frozenset({(1, 2)}))
    assert first_failure(A, B, ctx).code == "paired_before"
    assert first_failure(B, A, ctx).code == "paired_before"


def test_branch_rule_same_branch_or_shared_pool_both_ways():
    other = replace(B, branch_id=2, pool_branch_ids=frozenset({2}))
    assert first_failure(A, other).code == "branch"
    shared_one_way = replace(other, pool_branch_ids=frozenset({1, 2}))
    assert first_failure(A, shared_one_way).side == "candidate"
    assert passes(replace(A, pool_branch_ids=frozenset({1, 2})), shared_one_way)


def test_open_limit_is_configurable():
    busy = replace(B, open_introductions=1)
    assert not passes(A, busy)
    assert passes(A, busy, Context(rules=Rules(open_limit=2)))
    assert passes(A, replace(B, open_introductions=5), Context(rules=Rules(open_limit=None)))


MUST_HAVES = [
    # code, the wish, a candidate change that fails it, one that meets it
    ("age", dict(age_min=25, age_max=29), dict(age=30), dict(age=29)),
    ("districts", dict(districts=frozenset({"杭州市/滨江区"})), {}, dict(work_area="杭州市/滨江区")),
    ("divorced", dict(accepts_divorced=False), dict(marital=DIVORCED), dict(marital=WIDOWED)),
    ("children", dict(accepts_children=False), dict(children_count=1), dict(children_count=0)),
    ("height", dict(height_min=175, height_max=185), dict(height=None), dict(height=180)),
    ("height", dict(height_min=175), dict(height=174), dict(height=175)),
    ("education", dict(min_education_rank=4), dict(education_rank=3), dict(education_rank=4)),
]


@pytest.mark.parametrize("code,wish,failing,meeting", MUST_HAVES)
def test_each_must_have_both_ways(code, wish, failing, meeting):
    member = with_prefs(A, **wish)
    assert first_failure(member, replace(B, **failing)) .code == code
    assert first_failure(member, replace(B, **failing)).side == "candidate"
    assert passes(member, replace(B, **meeting))
    # the same wish held by the candidate excludes the member
    reason = first_failure(replace(B, **failing, gender="male", id=3), with_prefs(B, **wish))
    assert (reason.code, reason.side) == (code, "member")


def test_first_failure_follows_the_filter_order():
    candidate = replace(B, active=False, age=60, opted_out=True)
    codes = [r.code for r in failures(with_prefs(A, age_max=40), candidate)]
    assert codes == ["inactive", "opted_out", "age"]
    assert FILTER_NAMES.index("inactive") < FILTER_NAMES.index("opted_out") < FILTER_NAMES.index("age")
    assert first_failure(with_prefs(A, age_max=40), candidate).code == "inactive"
