from dataclasses import replace

from crm.matching.profile import Preferences, Profile


def person(id, gender="male", **kw) -> Profile:
    """A fully eligible member in branch 1, 30 years old, in 杭州市/西湖区, with no wishes."""
    prefs = kw.pop("prefs", {})
    base = dict(id=id, gender=gender, age=30, branch_id=1, pool_branch_ids=frozenset({1}),
                home_area="杭州市/西湖区", work_area="杭州市/西湖区", education_rank=3, height=170)
    base.update(kw)
    return Profile(**base, prefs=Preferences(**prefs) if isinstance(prefs, dict) else prefs)


def with_prefs(p: Profile, **kw) -> Profile:
    return replace(p, prefs=replace(p.prefs, **kw))
