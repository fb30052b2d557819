"""Counselling: referrals to a counsellor, sessions with confidential notes, case shares, risk alerts.

Confidentiality lives here and in :mod:`crm.counselling.queries`, not in templates:
``CounsellingSession.confidential_notes`` is a deferred column that *raises* when it is touched
without having been loaded on purpose, and only ``queries.readable_notes`` loads it, for the
author counsellor and the counsellors the author shared the case with.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Branch, User
from crm.clock import now_utc
from crm.enums import LabelledEnum, enum_type, values_check
from crm.extensions import db
from crm.members.models import Member


class ReferralStatus(LabelledEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {"open": _l("Waiting for a counsellor"), "accepted": _l("With a counsellor"),
                "closed": _l("Closed")}


class ConsentChannel(LabelledEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    IN_PERSON = "in_person"
    WRITTEN = "written"

    @classmethod
    def _labels(cls):
        return {"phone": _l("Phone"), "wechat": _l("WeChat"), "in_person": _l("In person"),
                "written": _l("In writing")}


class SessionMode(LabelledEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    ONLINE = "online"

    @classmethod
    def _labels(cls):
        return {"in_person": _l("In person"), "phone": _l("Phone"), "online": _l("Online")}


class Topic(LabelledEnum):
    MARRIAGE_VIEWS = "marriage_views"      # 婚恋观指导
    RELATIONSHIP = "relationship"          # 情感咨询
    COMMUNICATION = "communication"        # 沟通技巧
    PSYCHOLOGICAL = "psychological"        # 心理疏导
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {"marriage_views": _l("Views on love and marriage"),
                "relationship": _l("Relationship counselling"),
                "communication": _l("Communication skills"),
                "psychological": _l("Psychological support"), "other": _l("Other")}


class Risk(LabelledEnum):
    NONE = "none"
    LOW = "low"
    HIGH = "high"

    @classmethod
    def _labels(cls):
        return {"none": _l("No risk"), "low": _l("Low risk"), "high": _l("High risk")}


class Referral(db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_branch_status", "branch_id", "status"),
        Index("ix_referrals_counsellor_status", "counsellor_id", "status"),
        CheckConstraint(values_check("status", ReferralStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic locking (version_id_col): assigning or closing a referral changed since it was shown
    # shows both versions (crm.conflicts); services._give moves it on in its conditional UPDATE too.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    member: Mapped[Member] = relationship()
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="SET NULL"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    branch: Mapped[Branch] = relationship()
    reason: Mapped[str] = mapped_column(Text)
    referred_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    referred_by: Mapped[User] = relationship(foreign_keys=[referred_by_id])
    is_self_referred: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime]
    consent_recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    consent_channel: Mapped[ConsentChannel] = mapped_column(enum_type(ConsentChannel))
    status: Mapped[ReferralStatus] = mapped_column(enum_type(ReferralStatus), default=ReferralStatus.OPEN)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counsellor: Mapped[User | None] = relationship(foreign_keys=[counsellor_id])
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    shares: Mapped[list["CaseShare"]] = relationship(back_populates="referral", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Referral {self.id} {self.status.value}>"

    @property
    def shared_with_ids(self) -> set[int]:
        return {s.counsellor_id for s in self.shares}


class CounsellingSession(db.Model):
    __tablename__ = "counselling_sessions"
    __table_args__ = (
        Index("ix_counselling_sessions_referral_held", "referral_id", "held_on"),
        Index("ix_counselling_sessions_counsellor_next", "counsellor_id", "next_session_on"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    referral: Mapped[Referral] = relationship()
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    counsellor: Mapped[User] = relationship()
    held_on: Mapped[date]
    duration_minutes: Mapped[int]
    mode: Mapped[SessionMode] = mapped_column(enum_type(SessionMode))
    topic: Mapped[Topic] = mapped_column(enum_type(Topic))
    # Loaded only by crm.counselling.queries.readable_notes; touching it otherwise raises.
    confidential_notes: Mapped[str] = mapped_column(Text, deferred=True, deferred_raiseload=True)
    shareable_summary: Mapped[str | None] = mapped_column(Text)
    next_session_on: Mapped[date | None]
    risk: Mapped[Risk] = mapped_column(enum_type(Risk), default=Risk.NONE)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    def __repr__(self):
        return f"<CounsellingSession {self.id} {self.held_on}>"


class CaseShare(db.Model):
    """The author counsellor lets another counsellor read the confidential notes of a case."""

    __tablename__ = "case_shares"
    __table_args__ = (UniqueConstraint("referral_id", "counsellor_id", name="uq_case_shares_referral_counsellor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    referral: Mapped[Referral] = relationship(back_populates="shares")
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])
    shared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shared_at: Mapped[datetime] = mapped_column(default=now_utc)


risk_alert_followups = Table(
    "risk_alert_followups", db.metadata,
    Column("risk_alert_id", ForeignKey("risk_alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("followup_id", ForeignKey("followups.id", ondelete="CASCADE"), primary_key=True),
)


class RiskAlert(db.Model):
    """A high risk flag on a session, for the branch supervisors until one acknowledges it."""

    __tablename__ = "risk_alerts"
    __table_args__ = (Index("ix_risk_alerts_branch_open", "branch_id", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("counselling_sessions.id", ondelete="CASCADE"),
                                            unique=True)
    session: Mapped[CounsellingSession] = relationship()
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member: Mapped[Member] = relationship()
    raised_at: Mapped[datetime] = mapped_column(default=now_utc)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_by: Mapped[User | None] = relationship()
    acknowledged_at: Mapped[datetime | None]
    followups = relationship("FollowUp", secondary=risk_alert_followups)

    def __repr__(self):
        return f"<RiskAlert {self.id}>"
