"""The reciprocal score and its explanation in reasons.

``fit(a, b)`` — how well ``b`` fits ``a``'s wishes — is a weighted mean of components in [0, 1]:

* ``interests``: the rarity-weighted share of ``a``'s interests that ``b`` shares. An interest's
  weight is ``ln((1 + N) / (1 + n)) + 1`` for ``n`` holders among ``N`` pool members, so sharing
  skiing counts more than sharing films when fewer people ski.
* ``values``: ``1 - mean |difference| / 4`` over the 1–5 answers both gave (the children
  question excluded, it counts under life goals).
* ``life_goals``: agreement on the wish for children and the same city to settle in.
* ``soft``: closeness of ``b``'s age and height to the middle of ``a``'s preferred ranges.
* ``distance``: 1 if they share a home or work district, 0.5 the same city, else 0.

A component without information (nothing answered, no range given) is 0.5. ``score(a, b)`` is
the harmonic mean of ``fit(a, b)`` and ``fit(b, a)``: symmetric, in [0, 1], and low whenever one
side fits poorly.
"""

import math
from dataclasses import asdict, dataclass

from crm.matching.profile import Profile
from crm.matching.reasons import Reason

CHILDREN_KEY = "wants_children"
NEUTRAL = 0.5


@dataclass(frozen=True)
class Weights:
    """Relative weights of the components of ``fit``; the one place to tune them."""

    interests: float = 3.0
    values: float = 2.0
    life_goals: float = 2.0
    soft: float = 1.0
    distance: float = 1.5

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Weights":
        """Weights from stored settings; unknown keys and bad values fall back to the defaults."""
        out = {}
        for name, default in asdict(cls()).items():
            try:
                value = float((data or {}).get(name, default))
            except (TypeError, ValueError):
                value = default
            out[name] = value if math.isfinite(value) and value >= 0 else default
        if sum(out.values()) <= 0:
            return cls()
        return cls(**out)

    @property
    def total(self) -> float:
        return self.interests + self.values + self.life_goals + self.soft + self.distance


DEFAULT_WEIGHTS = Weights()


class InterestWeights(dict):
    """Interest key -> rarity weight, computed from how many pool members hold each interest."""

    def __init__(self, counts: dict[str, int] | None = None, pool_size: int = 0):
        self.pool_size = pool_size
        super().__init__({k: self.weight_for(n) for k, n in (counts or {}).items()})

    def weight_for(self, holders: int) -> float:
        return math.log((1 + self.pool_size) / (1 + holders)) + 1.0

    def __missing__(self, key):
        return self.weight_for(0)

    @classmethod
    def from_pool(cls, profiles) -> "InterestWeights":
        counts: dict[str, int] = {}
        size = 0
        for p in profiles:
            size += 1
            for key in p.interests:
                counts[key] = counts.get(key, 0) + 1
        return cls(counts, size)


def interests_component(a: Profile, b: Profile, iw: InterestWeights) -> float:
    own = sum(iw[k] for k in a.interests)
    if own <= 0:
        return NEUTRAL
    return sum(iw[k] for k in a.interests & b.interests) / own


def values_component(a: Profile, b: Profile) -> float:
    common = [k for k in a.values if k != CHILDREN_KEY and k in b.values]
    if not common:
        return NEUTRAL
    return 1.0 - sum(abs(a.values[k] - b.values[k]) for k in common) / (4.0 * len(common))


def children_agreement(a: Profile, b: Profile) -> float:
    if CHILDREN_KEY in a.values and CHILDREN_KEY in b.values:
        return 1.0 - abs(a.values[CHILDREN_KEY] - b.values[CHILDREN_KEY]) / 4.0
    return NEUTRAL


def settle_agreement(a: Profile, b: Profile) -> float:
    if a.settle_city and b.settle_city:
        return 1.0 if a.settle_city == b.settle_city else 0.0
    return NEUTRAL


def life_goals_component(a: Profile, b: Profile) -> float:
    return (children_agreement(a, b) + settle_agreement(a, b)) / 2.0


def closeness(value: int | None, lo: int | None, hi: int | None) -> float:
    """1 at the middle of [lo, hi], falling to 0 at one range-width (plus 2) from the middle."""
    if lo is None or hi is None or value is None:
        return NEUTRAL
    middle, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    return max(0.0, 1.0 - abs(value - middle) / (half + 2.0))


def soft_component(a: Profile, b: Profile) -> float:
    return (closeness(b.age, a.prefs.age_min, a.prefs.age_max)
            + closeness(b.height, a.prefs.height_min, a.prefs.height_max)) / 2.0


def distance_component(a: Profile, b: Profile) -> float:
    if a.areas & b.areas:
        return 1.0
    if a.cities & b.cities:
        return 0.5
    return 0.0


def components(a: Profile, b: Profile, iw: InterestWeights) -> dict[str, float]:
    return {"interests": interests_component(a, b, iw), "values": values_component(a, b),
            "life_goals": life_goals_component(a, b), "soft": soft_component(a, b),
            "distance": distance_component(a, b)}


def fit(a: Profile, b: Profile, iw: InterestWeights, weights: Weights = DEFAULT_WEIGHTS) -> float:
    """How well ``b`` fits ``a``'s wishes, in [0, 1]."""
    c = components(a, b, iw)
    return sum(getattr(weights, name) * value for name, value in c.items()) / weights.total


def harmonic(f: float, g: float) -> float:
    return 0.0 if f + g <= 0 else 2.0 * f * g / (f + g)


def score(a: Profile, b: Profile, iw: InterestWeights, weights: Weights = DEFAULT_WEIGHTS) -> float:
    """The reciprocal score of the pair in [0, 1]: the harmonic mean of both one-way fits."""
    return harmonic(fit(a, b, iw, weights), fit(b, a, iw, weights))


def explain(a: Profile, b: Profile, iw: InterestWeights,
            weights: Weights = DEFAULT_WEIGHTS) -> tuple[list[Reason], list[Reason]]:
    """(strengths, weak points) of the pair, as reasons for :mod:`crm.matching.messages`."""
    good: list[Reason] = []
    weak: list[Reason] = []
    shared = sorted(a.interests & b.interests, key=lambda k: (-iw[k], k))
    if shared:
        good.append(Reason("shared_interests", {"interests": tuple(shared[:4])}))
    else:
        weak.append(Reason("no_shared_interests"))
    if a.settle_city and a.settle_city == b.settle_city:
        good.append(Reason("same_settle_city", {"city": a.settle_city}))
    elif a.settle_city and b.settle_city:
        weak.append(Reason("different_settle_city", {"city": a.settle_city, "other": b.settle_city}))
    children = children_agreement(a, b)
    if CHILDREN_KEY in a.values and CHILDREN_KEY in b.values:
        if children >= 0.75:
            good.append(Reason("agree_children"))
        elif children <= 0.5:
            weak.append(Reason("disagree_children"))
    if any(v is not None for v in (a.prefs.age_min, a.prefs.age_max)) and \
            any(v is not None for v in (b.prefs.age_min, b.prefs.age_max)):
        good.append(Reason("ages_in_range"))
    values = values_component(a, b)
    if values >= 0.8 and any(k != CHILDREN_KEY and k in b.values for k in a.values):
        good.append(Reason("similar_values"))
    elif values < 0.5:
        weak.append(Reason("different_values"))
    shared_areas = sorted(a.areas & b.areas)
    shared_cities = sorted(a.cities & b.cities)
    if shared_areas:
        good.append(Reason("same_district", {"district": shared_areas[0].partition("/")[2]}))
    elif shared_cities:
        good.append(Reason("same_city", {"city": shared_cities[0]}))
    else:
        weak.append(Reason("far_apart"))
    f, g = fit(a, b, iw, weights), fit(b, a, iw, weights)
    if abs(f - g) > 0.2:
        weak.append(Reason("one_sided", {"member_fit": round(f, 2), "candidate_fit": round(g, 2)}))
    return good, weak
