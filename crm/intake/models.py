"""Self-registration applications waiting in the intake queue.

Applications are kept in their own table rather than as members with a "pending" status: an
application is unchecked, public input (anyone can send one), so it must not appear in member
lists, search, suggestions, statistics or the duplicate checks of real members until a supervisor
accepts it; rejected applications never become members at all. Accepting one creates the Member
(status intake, in the chosen volunteer's caseload or the branch pool) and records the consents
the applicant gave into the consent ledger (crm.privacy).
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Branch, User
from crm.clock import now_utc
from crm.enums import LabelledEnum, enum_type
from crm.extensions import db
from crm.members.models import Education, Gender, MaritalHistory, Member


class ApplicationStatus(LabelledEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @classmethod
    def _labels(cls):
        return {"pending": _l("Waiting"), "accepted": _l("Accepted"), "rejected": _l("Rejected")}


class IntakeApplication(db.Model):
    __tablename__ = "intake_applications"
    __table_args__ = (
        CheckConstraint("height_cm IS NULL OR height_cm BETWEEN 120 AND 230", name="height_range"),
        # Data processing is the one consent without which nothing may be kept.
        CheckConstraint("consent_processing", name="processing_consent_given"),
        CheckConstraint("(status = 'rejected') = (reject_reason IS NOT NULL)", name="reject_reason_iff_rejected"),
        Index("ix_intake_applications_branch_status", "branch_id", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    branch: Mapped[Branch] = relationship()
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus), default=ApplicationStatus.PENDING)

    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[Gender] = mapped_column(enum_type(Gender))
    birth_date: Mapped[date]
    phone: Mapped[str] = mapped_column(String(20), index=True)
    wechat_id: Mapped[str | None] = mapped_column(String(40))
    id_last4: Mapped[str] = mapped_column(String(4))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    employer: Mapped[str] = mapped_column(String(100))
    union_name: Mapped[str | None] = mapped_column(String(100))
    occupation_category: Mapped[str] = mapped_column(String(24))
    education: Mapped[Education] = mapped_column(enum_type(Education))
    marital_history: Mapped[MaritalHistory] = mapped_column(enum_type(MaritalHistory))
    height_cm: Mapped[int | None]
    work_city: Mapped[str] = mapped_column(String(20))
    work_district: Mapped[str] = mapped_column(String(20))
    home_city: Mapped[str] = mapped_column(String(20))
    home_district: Mapped[str] = mapped_column(String(20))
    self_intro: Mapped[str | None] = mapped_column(Text)
    interests: Mapped[list] = mapped_column(JSON, default=list)

    # The consents as the applicant gave them, each separately, with the text versions shown;
    # copied into the consent ledger when the member is created.
    consent_processing: Mapped[bool] = mapped_column(default=False)
    consent_sharing: Mapped[bool] = mapped_column(default=False)
    consent_photo: Mapped[bool] = mapped_column(default=False)
    consent_versions: Mapped[dict] = mapped_column(JSON, default=dict)

    # A member with the same ID fingerprint or phone when the application arrived (or was looked at).
    duplicate_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    duplicate_member: Mapped[Member | None] = relationship(foreign_keys=[duplicate_member_id])

    submitted_at: Mapped[datetime] = mapped_column(default=now_utc)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])

    def __repr__(self):
        return f"<IntakeApplication {self.id}>"

    @property
    def age(self) -> int:
        from crm.clock import today
        t = today()
        return t.year - self.birth_date.year - ((t.month, t.day) < (self.birth_date.month, self.birth_date.day))
