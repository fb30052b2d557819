"""Random but plausible profiles, for tests, the benchmark and evaluating the weights."""

import random

from crm.matching.profile import DIVORCED, NEVER, WIDOWED, Preferences, Profile

AREAS = [f"{city}/{d}" for city, ds in {
    "杭州市": ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区"],
    "济南市": ["历下区", "市中区", "槐荫区", "天桥区"],
    "北京市": ["东城区", "西城区", "朝阳区", "海淀区"],
}.items() for d in ds]
INTERESTS = ["hiking", "skiing", "running", "badminton", "swimming", "cycling", "yoga", "photography",
             "travel", "cooking", "tea", "reading", "films", "music", "calligraphy", "board_games",
             "fishing", "pets", "camping", "table_tennis"]
#: Uneven popularity, so that rarity weighting matters.
POPULARITY = [1 + 9 / (i + 1) for i in range(len(INTERESTS))]
VALUE_KEYS = ["wants_children", "settle_near_family", "family_vs_career", "lifestyle", "spending",
              "household_roles"]


def profile(rng: random.Random, member_id: int, branches=(1, 2, 3), pools=None) -> Profile:
    branch = rng.choice(branches)
    age = rng.randint(22, 45)
    home = rng.choice(AREAS)
    work = home if rng.random() < 0.4 else rng.choice(AREAS)
    low = rng.choice([None, age - rng.randint(0, 6)])
    high = rng.choice([None, age + rng.randint(0, 8)])
    h_lo = rng.choice([None, None, rng.randint(150, 175)])
    h_hi = rng.choice([None, None, rng.randint(175, 195)])
    prefs = Preferences(
        age_min=low, age_max=high, height_min=h_lo, height_max=h_hi,
        min_education_rank=rng.choice([None, None, 1, 2, 3]),
        districts=frozenset(rng.sample(AREAS, rng.randint(1, 4))) if rng.random() < 0.25 else frozenset(),
        accepts_divorced=rng.random() < 0.7, accepts_children=rng.random() < 0.4)
    marital = rng.choices([NEVER, DIVORCED, WIDOWED], [8, 2, 0.3])[0]
    return Profile(
        id=member_id, gender=rng.choice(["male", "female"]), age=age, branch_id=branch,
        pool_branch_ids=frozenset((pools or {}).get(branch, {branch})),
        active=rng.random() < 0.92, verified=rng.random() < 0.95, consented=rng.random() < 0.97,
        in_relationship_or_later=rng.random() < 0.05, opted_out=rng.random() < 0.03,
        open_introductions=rng.choices([0, 1, 2], [10, 2, 0.5])[0],
        home_area=home, work_area=work, settle_city=rng.choice([None, home.partition("/")[0], "杭州市"]),
        education_rank=rng.randint(0, 5), height=rng.choice([None, rng.randint(150, 190)]),
        marital=marital, children_count=rng.choice([0, 0, 0, 1]) if marital != NEVER else 0,
        interests=frozenset(rng.choices(INTERESTS, POPULARITY, k=rng.randint(0, 6))),
        values={k: rng.randint(1, 5) for k in VALUE_KEYS if rng.random() < 0.9}, prefs=prefs)


def pool(n: int, seed: int = 0, **kw) -> list[Profile]:
    rng = random.Random(seed)
    return [profile(rng, i + 1, **kw) for i in range(n)]
