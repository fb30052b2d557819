"""Hard filters: an ordered list of named rules, each checked both ways.

Each rule is written one way, ``rule(a, b, ctx)``: does ``b`` fail what ``a`` requires (or is
``b`` itself not available)? :func:`failures` runs every rule as (member → candidate) and then
(candidate → member), in the order of :data:`FILTERS`, so the first failure it yields is the
answer to "why is this candidate not suggested?". A :class:`Reason` has ``side="candidate"``
when the candidate fails the rule (or the member's wish) and ``side="member"`` when the member
asking fails it (or the candidate's wish).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from crm.matching.profile import DIVORCED, Profile
from crm.matching.reasons import Reason


@dataclass(frozen=True)
class Rules:
    #: A member with this many open introductions (from awaiting_consent on) is not suggested.
    #: ``None`` switches the limit off.
    open_limit: int | None = 1


DEFAULT_RULES = Rules()

@dataclass(frozen=True)
class Context:
    """What the filters need beyond the two profiles."""

    #: Pairs introduced once, in any stage (declined included), as (low id, high id).
    excluded_pairs: frozenset = frozenset()
    rules: Rules = field(default_factory=Rules)


def pair_key(a_id: int, b_id: int) -> tuple[int, int]:
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def _same_person(a, b, ctx):
    return Reason("same_person") if a.id == b.id else None


def _gender(a, b, ctx):
    return Reason("gender") if a.gender == b.gender else None


def _flag(code, failing):
    def rule(a, b, ctx):
        return Reason(code) if failing(b) else None
    return rule


def _paired_before(a, b, ctx):
    return Reason("paired_before") if pair_key(a.id, b.id) in ctx.excluded_pairs else None


def _branch(a, b, ctx):
    return Reason("branch") if b.branch_id not in a.pool else None


def _open_limit(a, b, ctx):
    limit = ctx.rules.open_limit
    if limit is not None and b.open_introductions >= limit:
        return Reason("open_limit", {"count": b.open_introductions, "limit": limit})
    return None


def _age(a, b, ctx):
    lo, hi = a.prefs.age_min, a.prefs.age_max
    if (lo is not None and b.age < lo) or (hi is not None and b.age > hi):
        return Reason("age", {"age": b.age, "min": lo if lo is not None else "", "max": hi if hi is not None else ""})
    return None


def _districts(a, b, ctx):
    if a.prefs.districts and not (b.areas & a.prefs.districts):
        return Reason("districts", {"districts": tuple(sorted(a.prefs.districts))})
    return None


def _divorced(a, b, ctx):
    return Reason("divorced") if not a.prefs.accepts_divorced and b.marital == DIVORCED else None


def _children(a, b, ctx):
    return Reason("children") if not a.prefs.accepts_children and b.children_count > 0 else None


def _height(a, b, ctx):
    lo, hi = a.prefs.height_min, a.prefs.height_max
    if lo is None and hi is None:
        return None
    if b.height is None or (lo is not None and b.height < lo) or (hi is not None and b.height > hi):
        return Reason("height", {"height": b.height or "", "min": lo or "", "max": hi or ""})
    return None


def _education(a, b, ctx):
    if a.prefs.min_education_rank is not None and b.education_rank < a.prefs.min_education_rank:
        return Reason("education", {"rank": b.education_rank, "min": a.prefs.min_education_rank})
    return None


Rule = Callable[[Profile, Profile, Context], Reason | None]

#: The hard filters in the order "why not?" reports them.
FILTERS: list[tuple[str, Rule]] = [
    ("same_person", _same_person),
    ("gender", _gender),
    ("inactive", _flag("inactive", lambda p: not p.active)),
    ("unverified", _flag("unverified", lambda p: not p.verified)),
    ("no_consent", _flag("no_consent", lambda p: not p.consented)),
    ("in_relationship", _flag("in_relationship", lambda p: p.in_relationship_or_later)),
    ("opted_out", _flag("opted_out", lambda p: p.opted_out)),
    ("paired_before", _paired_before),
    ("branch", _branch),
    ("open_limit", _open_limit),
    ("age", _age),
    ("districts", _districts),
    ("divorced", _divorced),
    ("children", _children),
    ("height", _height),
    ("education", _education),
]
FILTER_NAMES = [name for name, _ in FILTERS]


def failures(member: Profile, candidate: Profile, ctx: Context | None = None) -> Iterator[Reason]:
    """Every failing rule, in order; each rule member→candidate first, then candidate→member."""
    ctx = ctx or Context()
    for _name, rule in FILTERS:
        for a, b, side in ((member, candidate, "candidate"), (candidate, member, "member")):
            reason = rule(a, b, ctx)
            if reason is not None:
                yield Reason(reason.code, reason.params, side)


def first_failure(member: Profile, candidate: Profile, ctx: Context | None = None) -> Reason | None:
    """The first hard filter that excludes the pair, or ``None`` if the pair passes them all."""
    return next(failures(member, candidate, ctx), None)


def passes(member: Profile, candidate: Profile, ctx: Context | None = None) -> bool:
    return first_failure(member, candidate, ctx) is None
