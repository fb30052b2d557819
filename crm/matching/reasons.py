"""A reason is a message code and its parameters; :mod:`crm.matching.messages` words it."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict = field(default_factory=dict, compare=True, hash=False)
    #: For filters: "member" when the member asking fails the rule, "candidate" for the other side.
    side: str | None = None
