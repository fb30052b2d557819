"""The plain values the engine matches on, built from a member by :mod:`crm.matching.adapters`."""

from dataclasses import dataclass, field

#: Marital history values (as stored on Member).
NEVER, DIVORCED, WIDOWED = "never", "divorced", "widowed"


@dataclass(frozen=True, slots=True)
class Preferences:
    """A member's must-haves. ``None`` / empty means "no requirement"."""

    age_min: int | None = None
    age_max: int | None = None
    height_min: int | None = None
    height_max: int | None = None
    min_education_rank: int | None = None
    districts: frozenset[str] = frozenset()
    accepts_divorced: bool = True
    accepts_children: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    gender: str                      # "male" | "female"
    age: int
    branch_id: int
    #: Branches whose members this member may be introduced to (own branch included).
    pool_branch_ids: frozenset[int] = frozenset()
    active: bool = True
    verified: bool = True
    consented: bool = True
    in_relationship_or_later: bool = False
    opted_out: bool = False
    #: Introductions currently open for this member, from ``awaiting_consent`` on.
    open_introductions: int = 0
    home_area: str = ""              # "城市/区"
    work_area: str = ""
    settle_city: str | None = None
    education_rank: int = 0
    height: int | None = None
    marital: str = NEVER
    children_count: int = 0
    interests: frozenset[str] = frozenset()
    values: dict = field(default_factory=dict, hash=False)
    prefs: Preferences = Preferences()

    @property
    def areas(self) -> frozenset[str]:
        return frozenset(a for a in (self.home_area, self.work_area) if a)

    @property
    def cities(self) -> frozenset[str]:
        return frozenset(a.partition("/")[0] for a in self.areas)

    @property
    def pool(self) -> frozenset[int]:
        return self.pool_branch_ids | {self.branch_id}
