"""Each score component, the reciprocal combination and the explanations."""

from dataclasses import replace

import pytest

from crm.matching.scoring import (
    InterestWeights,
    Weights,
    distance_component,
    explain,
    fit,
    harmonic,
    interests_component,
    life_goals_component,
    score,
    soft_component,
    values_component,
)
from tests.matching.helpers import person, with_prefs

A, B = person(1, "male"), person(2, "female")
FLAT = InterestWeights({}, 0)  # every interest weighs 1


def test_rare_interests_weigh_more():
    pool = [person(i, interests=frozenset({"films"})) for i in range(10)]
    pool.append(person(99, interests=frozenset({"skiing"})))
    iw = InterestWeights.from_pool(pool)
    assert iw["skiing"] > iw["films"] > 0
    a = replace(A, interests=frozenset({"skiing", "films"}))
    assert interests_component(a, replace(B, interests=frozenset({"skiing"})), iw) > \
        interests_component(a, replace(B, interests=frozenset({"films"})), iw)


def test_interests_are_a_share_of_the_asking_side():
    a = replace(A, interests=frozenset({"hiking", "tea"}))
    b = replace(B, interests=frozenset({"hiking", "tea", "films", "music"}))
    assert interests_component(a, b, FLAT) == 1.0
    assert interests_component(b, a, FLAT) == 0.5
    assert interests_component(replace(A, interests=frozenset()), b, FLAT) == 0.5


def test_values_similarity_ignores_unanswered_and_the_children_question():
    a = replace(A, values={"lifestyle": 1, "spending": 5, "wants_children": 5})
    assert values_component(a, replace(B, values={"lifestyle": 1, "spending": 5, "wants_children": 1})) == 1.0
    assert values_component(a, replace(B, values={"lifestyle": 5})) == 0.0
    assert values_component(a, replace(B, values={})) == 0.5


def test_life_goals_children_and_where_to_settle():
    a = replace(A, values={"wants_children": 5}, settle_city="杭州市")
    assert life_goals_component(a, replace(B, values={"wants_children": 5}, settle_city="杭州市")) == 1.0
    assert life_goals_component(a, replace(B, values={"wants_children": 1}, settle_city="北京市")) == 0.0
    assert life_goals_component(a, B) == 0.5


def test_soft_preferences_prefer_the_middle_of_the_ranges():
    a = with_prefs(A, age_min=26, age_max=30, height_min=160, height_max=170)
    middle = replace(B, age=28, height=165)
    edge = replace(B, age=30, height=170)
    assert soft_component(a, middle) == 1.0
    assert 0 < soft_component(a, edge) < 1.0
    assert soft_component(A, middle) == 0.5


def test_distance_same_district_beats_same_city_beats_elsewhere():
    same_city = replace(B, home_area="杭州市/滨江区", work_area="杭州市/滨江区")
    elsewhere = replace(B, home_area="北京市/海淀区", work_area="北京市/海淀区")
    assert distance_component(A, B) == 1.0
    assert distance_component(A, same_city) == 0.5
    assert distance_component(A, elsewhere) == 0.0


def test_harmonic_mean_punishes_a_one_sided_fit():
    assert harmonic(1.0, 0.0) == 0.0
    assert harmonic(0.9, 0.1) < (0.9 + 0.1) / 2
    a = replace(A, interests=frozenset({"hiking"}))
    b = replace(B, interests=frozenset({"hiking", "tea", "films", "music", "reading", "yoga"}))
    assert fit(a, b, FLAT) > fit(b, a, FLAT)
    assert score(a, b, FLAT) == pytest.approx(score(b, a, FLAT))
    assert min(fit(a, b, FLAT), fit(b, a, FLAT)) <= score(a, b, FLAT) <= max(fit(a, b, FLAT), fit(b, a, FLAT))


def test_weights_from_stored_settings_fall_back_on_bad_values():
    assert Weights.from_dict({"interests": "x", "distance": -1, "values": 5}) == Weights(values=5.0)
    assert Weights.from_dict({name: 0 for name in Weights().as_dict()}) == Weights()
    assert Weights.from_dict(None) == Weights()


def test_explanations_name_strengths_and_weak_points():
    a = with_prefs(replace(A, interests=frozenset({"skiing", "hiking"}), settle_city="杭州市",
                           values={"wants_children": 5}), age_min=25, age_max=35)
    b = with_prefs(replace(B, interests=frozenset({"skiing", "hiking", "tea"}), settle_city="杭州市",
                           values={"wants_children": 4}), age_min=25, age_max=35)
    good, weak = explain(a, b, FLAT)
    codes = [r.code for r in good]
    assert codes[:3] == ["shared_interests", "same_settle_city", "agree_children"]
    assert set(good[0].params["interests"]) == {"skiing", "hiking"}
    assert "ages_in_range" in codes and "same_district" in codes
    far = replace(b, interests=frozenset(), settle_city="北京市", home_area="北京市/海淀区",
                  work_area="北京市/海淀区", values={"wants_children": 1})
    good, weak = explain(a, far, FLAT)
    assert {"no_shared_interests", "different_settle_city", "disagree_children", "far_apart"} <= {r.code for r in weak}
