"""Introductions between two members: the pairing, each side's consent and the stage history.

A pair of members is stored once, as an unordered pair (``member_low_id < member_high_id``),
so the database itself refuses a second pairing of the same two people in either order.
The stage rules live in :mod:`crm.pairings.pipeline`; nothing else changes ``stage``.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.clock import now_utc
from crm.enums import LabelledEnum, enum_type
from crm.extensions import db
from crm.members.models import Member


class Source(LabelledEnum):
    SUGGESTION = "suggestion"
    EVENT = "event"
    MANUAL = "manual"
    MEMBER_REQUEST = "member_request"

    @classmethod
    def _labels(cls):
        return {"suggestion": _l("Match suggestion"), "event": _l("Mixer event"),
                "manual": _l("Proposed by a volunteer"), "member_request": _l("Member's own request")}


class Stage(LabelledEnum):
    PROPOSED = "proposed"
    AWAITING_CONSENT = "awaiting_consent"
    INTRODUCED = "introduced"
    FIRST_MEETING = "first_meeting"
    DATING = "dating"
    RELATIONSHIP = "relationship"
    ENGAGED = "engaged"
    MARRIED = "married"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {"proposed": _l("Proposed"), "awaiting_consent": _l("Awaiting consent"),
                "introduced": _l("Introduced"), "first_meeting": _l("First meeting"),
                "dating": _l("Dating"), "relationship": _l("In a relationship"),
                "engaged": _l("Engaged"), "married": _l("Married"), "closed": _l("Closed")}

    @property
    def rank(self) -> int:
        """Position in the forward order; ``closed`` sorts last."""
        return list(Stage).index(self)

    @property
    def is_open(self) -> bool:
        return self not in (Stage.MARRIED, Stage.CLOSED)

    @property
    def is_introduced_or_later(self) -> bool:
        # A set lookup: asked per possible move of every board card (the rank comparison was a list scan twice).
        return self in _INTRODUCED_OR_LATER


_INTRODUCED_OR_LATER = frozenset(s for s in Stage if Stage.INTRODUCED.rank <= s.rank <= Stage.MARRIED.rank)


class PairingCloseReason(LabelledEnum):
    DECLINED = "declined"
    NO_CHEMISTRY = "no_chemistry"
    LOST_CONTACT = "lost_contact"
    ENDED_BY_MEMBER = "ended_by_member"
    SAFETY_CONCERN = "safety_concern"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {"declined": _l("Declined by one side"), "no_chemistry": _l("No chemistry"),
                "lost_contact": _l("Lost contact"), "ended_by_member": _l("Ended by a member"),
                "safety_concern": _l("Safety concern"), "other": _l("Other")}


class ConsentAnswer(LabelledEnum):
    PENDING = "pending"
    YES = "yes"
    NO = "no"

    @classmethod
    def _labels(cls):
        return {"pending": _l("Not answered yet"), "yes": _l("Yes"), "no": _l("No")}


class ConsentChannel(LabelledEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    IN_PERSON = "in_person"

    @classmethod
    def _labels(cls):
        return {"phone": _l("Phone"), "wechat": _l("WeChat"), "in_person": _l("In person")}


#: The contact fields a member may agree to share, in display order.
SHARE_FIELDS = ("share_full_name", "share_phone", "share_wechat", "share_photo", "share_employer")


class Pairing(db.Model):
    __tablename__ = "pairings"
    __table_args__ = (
        CheckConstraint("member_low_id < member_high_id", name="unordered_pair"),
        UniqueConstraint("member_low_id", "member_high_id", name="uq_pairings_pair"),
        Index("ix_pairings_member_high", "member_high_id"),
        Index("ix_pairings_stage", "stage", "stage_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    member_low_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member_high_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member_a: Mapped[Member] = relationship(foreign_keys=[member_low_id])
    member_b: Mapped[Member] = relationship(foreign_keys=[member_high_id])
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    source: Mapped[Source] = mapped_column(enum_type(Source), default=Source.MANUAL)
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), default=Stage.PROPOSED)
    close_reason: Mapped[PairingCloseReason | None] = mapped_column(enum_type(PairingCloseReason))
    # Indexed on its own: max(stage_changed_at) is read on every suggestions request (crm.matching).
    stage_changed_at: Mapped[datetime] = mapped_column(default=now_utc, index=True)
    # Indexed: the statistics count pairings proposed in a period (crm.stats).
    created_at: Mapped[datetime] = mapped_column(default=now_utc, index=True)

    consents: Mapped[list["PairingConsent"]] = relationship(
        back_populates="pairing", cascade="all, delete-orphan", order_by="PairingConsent.member_id")
    history: Mapped[list["StageChange"]] = relationship(
        back_populates="pairing", cascade="all, delete-orphan", order_by="StageChange.id")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Pairing {self.id} {self.stage.value}>"

    @staticmethod
    def ordered_ids(a_id: int, b_id: int) -> tuple[int, int]:
        return (a_id, b_id) if a_id < b_id else (b_id, a_id)

    @property
    def reference(self) -> str:
        """The reference printed on cards and quoted on the phone, e.g. QQ-000042."""
        return f"QQ-{self.id:06d}"

    @property
    def members(self) -> tuple[Member, Member]:
        return (self.member_a, self.member_b)

    def other(self, member: Member | int) -> Member:
        member_id = getattr(member, "id", member)
        return self.member_b if member_id == self.member_low_id else self.member_a

    def involves(self, member: Member | int) -> bool:
        return getattr(member, "id", member) in (self.member_low_id, self.member_high_id)

    def consent_for(self, member: Member | int) -> "PairingConsent | None":
        member_id = getattr(member, "id", member)
        return next((c for c in self.consents if c.member_id == member_id), None)

    @property
    def both_consented(self) -> bool:
        return len(self.consents) == 2 and all(c.answer is ConsentAnswer.YES for c in self.consents)


class PairingConsent(db.Model):
    """One side's answer to the introduction, and which contact fields may pass to the other side."""

    __tablename__ = "pairing_consents"
    __table_args__ = (UniqueConstraint("pairing_id", "member_id", name="uq_pairing_consents_side"),
                      Index("ix_pairing_consents_member_answer", "member_id", "answer"),
                      # max(recorded_at) is part of the statistics cache's freshness stamp (crm.stats.cache)
                      Index("ix_pairing_consents_recorded_at", "recorded_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    pairing: Mapped[Pairing] = relationship(back_populates="consents")
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member: Mapped[Member] = relationship()
    asked_at: Mapped[datetime] = mapped_column(default=now_utc)
    answer: Mapped[ConsentAnswer] = mapped_column(enum_type(ConsentAnswer), default=ConsentAnswer.PENDING)
    channel: Mapped[ConsentChannel | None] = mapped_column(enum_type(ConsentChannel))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User | None] = relationship()
    recorded_at: Mapped[datetime | None]
    share_full_name: Mapped[bool] = mapped_column(default=False)
    share_phone: Mapped[bool] = mapped_column(default=False)
    share_wechat: Mapped[bool] = mapped_column(default=False)
    share_photo: Mapped[bool] = mapped_column(default=False)
    share_employer: Mapped[bool] = mapped_column(default=False)
    #: A copy of the pairing's stage, kept by crm.pairings.consent_stage: the dashboard counts the overdue
    #: requests of a volunteer's members from this row alone (crm.pairings.services.overdue_consent_clause).
    pairing_stage: Mapped[Stage | None] = mapped_column(enum_type(Stage))

    def __repr__(self):
        return f"<PairingConsent {self.pairing_id}/{self.member_id} {self.answer.value}>"


class StageChange(db.Model):
    """One move of a pairing through the pipeline. Append-only."""

    __tablename__ = "stage_changes"
    # Covering indexes of the dashboard's statements (crm.stats.queries): median days per stage reads
    # (at, to_stage, next_at, pairing_id) for the moves in a period; close reasons (to_stage, at, ...).
    __table_args__ = (Index("ix_stage_changes_at_durations", "at", "to_stage", "next_at", "pairing_id"),
                      Index("ix_stage_changes_to_stage_at_reason", "to_stage", "at", "close_reason", "pairing_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    pairing: Mapped[Pairing] = relationship(back_populates="history")
    from_stage: Mapped[Stage | None] = mapped_column(enum_type(Stage))
    to_stage: Mapped[Stage] = mapped_column(enum_type(Stage))
    at: Mapped[datetime] = mapped_column(default=now_utc)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by: Mapped[User | None] = relationship()
    note: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[PairingCloseReason | None] = mapped_column(enum_type(PairingCloseReason))
    #: When the pair's next move happened (NULL on its latest): ``next_at - at`` is the time spent at
    #: ``to_stage``. Derived from the history, kept by crm.pairings.next_moves; read by the statistics.
    next_at: Mapped[datetime | None]


class PairingStageFirst(db.Model):
    """When a pairing FIRST reached a stage of the forward order, or any later one (read by crm.stats).

    Derived from ``stage_changes``, kept by every writer of a StageChange (crm.pairings.firsts): one
    row per pairing and forward stage up to the furthest it ever reached, ``reached_at`` the earliest
    move into that stage or a later one. Going back, closing and reopening never change a row, so
    "first reached introduced or later in the period" is one range seek on (stage, reached_at)."""

    __tablename__ = "pairing_stage_firsts"
    __table_args__ = (Index("ix_pairing_stage_firsts_stage_reached", "stage", "reached_at"),)

    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), primary_key=True)
    reached_at: Mapped[datetime]


class PairingStageCount(db.Model):
    """How many pairings stand at each stage, per branch: the pipeline board's column counts without counting.

    ``touching`` counts the pairings with at least one member in the branch (what the branch's supervisor sees);
    ``owned`` counts them once, in the branch of the pairing's low member, so that summing ``owned`` over all
    branches gives union-wide counts. Kept by crm.pairings.stage_counts (pairing creation, ``pipeline.move``, a
    member changing branch); no personal data, so erasure leaves it alone.
    """

    __tablename__ = "pairing_stage_counts"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), primary_key=True)
    touching: Mapped[int] = mapped_column(default=0)
    owned: Mapped[int] = mapped_column(default=0)


@event.listens_for(StageChange, "after_insert")
def _first_reached(_mapper, connection, change: StageChange) -> None:
    """Every history row the ORM writes keeps ``pairing_stage_firsts`` in step (crm.pairings.firsts)."""
    from crm.pairings import firsts, next_moves

    firsts.record(connection, change.pairing_id, change.to_stage, change.at)
    next_moves.record(connection, change.pairing_id, change.id, change.at)
