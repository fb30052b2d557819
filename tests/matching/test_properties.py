"""Property tests over random pools, the numpy index against the reference scan, and a ranking
test at a few thousand members."""

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.matching import reference, synthetic
from crm.matching.filters import FILTERS, Context, Rules, first_failure, pair_key
from crm.matching.index import SuggestionIndex
from crm.matching.profile import Preferences
from crm.matching.reference import Narrow
from crm.matching.scoring import score
from tests.matching.helpers import person

POOLS = {1: {1, 2}, 2: {1, 2}, 3: {3}}
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pools(draw):
    seed = draw(st.integers(0, 10 ** 6))
    n = draw(st.integers(2, 80))
    people = synthetic.pool(n, seed=seed, pools=POOLS)
    rng = random.Random(seed)
    pairs = frozenset(pair_key(*rng.sample(range(1, n + 1), 2)) for _ in range(rng.randint(0, n)))
    limit = draw(st.sampled_from([None, 1, 2]))
    return people, pairs, Rules(open_limit=limit)


@PROPS
@given(pools())
def test_no_suggestion_violates_a_hard_filter_in_either_direction(data):
    people, pairs, rules = data
    index = SuggestionIndex(people, excluded_pairs=pairs, rules=rules)
    for a in people:
        for rule_name, rule in FILTERS:
            for b_id, _ in index.suggest(a, k=len(people)):
                b = index.profiles[b_id]
                ctx = Context(pairs, rules)
                assert rule(a, b, ctx) is None and rule(b, a, ctx) is None, (rule_name, a, b)


@PROPS
@given(pools())
def test_score_is_symmetric_and_bounded(data):
    people, pairs, rules = data
    index = SuggestionIndex(people)
    iw = index.interest_weights
    for a in people[:20]:
        for b in people:
            s = score(a, b, iw)
            assert 0.0 <= s <= 1.0
            assert s == pytest.approx(score(b, a, iw), abs=1e-12)


@PROPS
@given(pools())
def test_every_excluded_pair_is_explained_by_its_first_failing_filter(data):
    people, pairs, rules = data
    index = SuggestionIndex(people, excluded_pairs=pairs, rules=rules)
    ctx = Context(pairs, rules)
    for a in people[:15]:
        suggested = {i for i, _ in index.suggest(a, k=len(people))}
        for b in people:
            reason = first_failure(a, b, ctx)
            assert (reason is None) == (b.id in suggested)
            if reason is not None:
                names = [name for name, _ in FILTERS]
                earlier = names[:names.index(reason.code)]
                # the named rule fails on the named side, and no earlier rule fails either way
                rule = dict(FILTERS)[reason.code]
                x, y = (a, b) if reason.side == "candidate" else (b, a)
                assert rule(x, y, ctx) is not None
                assert all(dict(FILTERS)[n](a, b, ctx) is None and dict(FILTERS)[n](b, a, ctx) is None
                           for n in earlier)


def _agree(fast, slow, a=None, index=None):
    """Same length, same scores rank by rank; ids may differ only between equal scores."""
    assert len(fast) == len(slow)
    for (i, s), (j, t) in zip(fast, slow, strict=True):
        assert s == pytest.approx(t, abs=1e-9)
        if i != j and index is not None:
            assert score(a, index.profiles[i], index.interest_weights) == pytest.approx(t, abs=1e-9)


@PROPS
@given(pools(), st.integers(1, 25), st.sampled_from([Narrow(), Narrow(area="杭州市/西湖区"),
                                                    Narrow(age_min=28, age_max=35)]))
def test_numpy_index_agrees_with_the_reference(data, k, narrow):
    people, pairs, rules = data
    index = SuggestionIndex(people, excluded_pairs=pairs, rules=rules)
    for a in people:
        fast = index.suggest(a, k=k, narrow=narrow)
        slow = reference.suggest(a, people, excluded_pairs=pairs, iw=index.interest_weights, rules=rules,
                                 k=k, narrow=narrow)
        _agree(fast, slow, a, index)


def test_agreement_on_a_larger_pool_with_every_candidate():
    people = synthetic.pool(1500, seed=3, pools=POOLS)
    pairs = frozenset(pair_key(*random.Random(3).sample(range(1, 1501), 2)) for _ in range(300))
    index = SuggestionIndex(people, excluded_pairs=pairs)
    for a in people[:100]:
        _agree(index.suggest(a, k=1500),
               reference.suggest(a, people, excluded_pairs=pairs, iw=index.interest_weights, k=1500), a, index)


def test_a_stale_index_never_suggests_an_invalidated_member_and_updates_in_place():
    people = synthetic.pool(400, seed=9, pools=POOLS)
    index = SuggestionIndex(people)
    a = next(p for p in people if index.suggest(p, k=5))
    top = index.suggest(a, k=5)[0][0]
    index.invalidate([top])
    assert top not in {i for i, _ in index.suggest(a, k=400)}
    gone = replace(index.profiles[top], in_relationship_or_later=True)
    index.update([gone], version=2)
    assert top not in {i for i, _ in index.suggest(a, k=400)} and index.version == 2
    index.update([replace(gone, in_relationship_or_later=False)])
    assert index.suggest(a, k=5)[0][0] == top
    index.add_pair(a.id, top)
    assert top not in {i for i, _ in index.suggest(a, k=400)}
    # a new member or a new area triggers a full rebuild and is then found
    newcomer = replace(index.profiles[top], id=10_000, home_area="北京市/通州区")
    index.update([newcomer])
    assert 10_000 in {i for i, _ in index.suggest(a, k=400)}


def test_a_constructed_ideal_pair_ranks_first_among_three_thousand():
    people = synthetic.pool(3000, seed=11, pools=POOLS)
    rare = frozenset({"fishing", "calligraphy", "camping"})
    wishes = Preferences(age_min=28, age_max=34, height_min=155, height_max=185)
    values = {k: 3 for k in synthetic.VALUE_KEYS}
    a = person(5001, "male", age=31, height=176, branch_id=1, pool_branch_ids=frozenset({1, 2}),
               interests=rare, values=values, settle_city="杭州市", prefs=wishes)
    ideal = person(5002, "female", age=31, height=170, branch_id=2, pool_branch_ids=frozenset({1, 2}),
                   interests=rare, values=values, settle_city="杭州市", prefs=wishes)
    people += [a, ideal]
    index = SuggestionIndex(people)
    assert index.suggest(a, k=20)[0][0] == ideal.id
    assert index.suggest(ideal, k=20)[0][0] == a.id
    assert reference.suggest(a, people, iw=index.interest_weights, k=1)[0][0] == ideal.id
