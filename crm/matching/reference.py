"""The plain-Python suggestion scan: slow, obviously right, and the yardstick for the index."""

from dataclasses import dataclass

from crm.matching.filters import DEFAULT_RULES, Context, Rules, passes
from crm.matching.profile import Profile
from crm.matching.scoring import DEFAULT_WEIGHTS, InterestWeights, Weights, score


@dataclass(frozen=True)
class Narrow:
    """Optional extra filters a volunteer applies to the candidates (not hard filters)."""

    area: str | None = None          # "城市/区": the candidate lives or works there
    age_min: int | None = None
    age_max: int | None = None

    def admits(self, p: Profile) -> bool:
        return ((not self.area or self.area in p.areas)
                and (self.age_min is None or p.age >= self.age_min)
                and (self.age_max is None or p.age <= self.age_max))


ANY = Narrow()


def suggest(member: Profile, pool, *, excluded_pairs=frozenset(), iw: InterestWeights | None = None,
            weights: Weights = DEFAULT_WEIGHTS, rules: Rules = DEFAULT_RULES, k: int = 20,
            narrow: Narrow | None = None) -> list[tuple[int, float]]:
    """The top ``k`` candidates for ``member`` as (id, score), best first, ties by id."""
    pool = list(pool)
    narrow = narrow or ANY
    iw = iw if iw is not None else InterestWeights.from_pool(pool)
    ctx = Context(frozenset(excluded_pairs), rules)
    found = [(c.id, score(member, c, iw, weights)) for c in pool
             if narrow.admits(c) and passes(member, c, ctx)]
    found.sort(key=lambda t: (-t[1], t[0]))
    return found[:k]
