"""What one side of an introduction may see of the other side's member.

These are plain dataclasses built in Python from a Member. They carry no reference to the
Member, so a template that receives one cannot reach a name, phone number or employer by
accident: what is not copied here does not exist for the template.
"""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from crm.members.models import Gender, Member


@dataclass(frozen=True)
class CandidateView:
    """The candidate view: nothing that identifies the person (DESIGN, "Users and roles")."""

    gender: Gender
    age: int
    work_city: str
    work_district: str
    home_city: str
    home_district: str
    education_label: str
    occupation_category: str
    height_cm: int | None
    marital_history_label: str
    children_count: int
    interests: tuple[str, ...]
    values_answers: dict = field(default_factory=dict)
    self_intro: str | None = None

    @classmethod
    def from_member(cls, m: Member) -> "CandidateView":
        return cls(gender=m.gender, age=m.age, work_city=m.work_city, work_district=m.work_district,
                   home_city=m.home_city, home_district=m.home_district,
                   education_label=str(m.education.label), occupation_category=m.occupation_category,
                   height_cm=m.height_cm, marital_history_label=str(m.marital_history.label),
                   children_count=m.children_count, interests=tuple(m.interests or ()),
                   values_answers=dict(m.values_answers or {}), self_intro=m.self_intro)

    @property
    def summary(self) -> str:
        """A one-line description for lists and board cards: gender, age, district."""
        return f"{self.gender.label} · {self.age} · {self.work_city}{self.work_district}"


@dataclass(frozen=True)
class WithheldView:
    """A member who withdrew consent to sharing their profile (or to data processing): the other side of an
    introduction learns that much, and nothing of the profile or contacts (crm.auth.policy.sees_profile)."""

    gender: Gender

    @property
    def summary(self) -> str:
        return f"{self.gender.label} · {_('profile not shared')}"


@dataclass(frozen=True)
class SharedProfile:
    """After both sides consented: the candidate view plus the fields this member agreed to share.

    ``display_name`` is the full name only if it was consented, otherwise the courtesy name
    (李先生 / 王女士). Unconsented contact fields are ``None``.
    """

    candidate: CandidateView
    display_name: str
    full_name_shared: bool
    phone: str | None
    wechat_id: str | None
    employer: str | None
    photo_path: str | None

    @classmethod
    def from_member(cls, m: Member, consent) -> "SharedProfile":
        def shared(flag, value):
            return value if getattr(consent, flag, False) else None

        return cls(candidate=CandidateView.from_member(m),
                   display_name=m.name if consent.share_full_name else m.courtesy_name,
                   full_name_shared=bool(consent.share_full_name),
                   phone=shared("share_phone", m.phone), wechat_id=shared("share_wechat", m.wechat_id),
                   employer=shared("share_employer", m.employer),
                   photo_path=shared("share_photo", m.photo_path if m.photo_consent else None))

    @property
    def summary(self) -> str:
        return f"{self.display_name} · {self.candidate.age} · {self.candidate.work_city}{self.candidate.work_district}"
