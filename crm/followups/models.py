"""Follow-ups (跟踪回访): dated tasks on a member and/or a pairing, done with an outcome."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.clock import now_utc
from crm.enums import LabelledEnum, enum_type
from crm.extensions import db
from crm.members.models import Member


class FollowUpKind(LabelledEnum):
    CHECK_IN = "check_in"
    AFTER_MEETING = "after_meeting"
    MONTHLY = "monthly"
    CONSENT = "consent"
    OTHER = "other"
    # Made by counselling, never chosen by hand: a counsellor's next session, a supervisor's risk alert.
    COUNSELLING = "counselling"
    RISK_ALERT = "risk_alert"

    @classmethod
    def _labels(cls):
        return {"check_in": _l("Check-in after the introduction"),
                "after_meeting": _l("Call after the first meeting"),
                "monthly": _l("Monthly follow-up"), "consent": _l("Ask for consent"),
                "other": _l("Other"), "counselling": _l("Counselling session"),
                "risk_alert": _l("Acknowledge a risk alert")}

    @classmethod
    def choosable(cls):
        """The kinds a user gives a follow-up they add by hand."""
        return [c for c in cls.choices() if cls(c.value) not in COUNSELLING_KINDS]


#: Follow-ups of counselling: they belong to the counsellor or the supervisors, never to the case's owner, so they
#: neither follow the case to a new owner nor end with the case file (crm.followups.services).
COUNSELLING_KINDS = frozenset({FollowUpKind.COUNSELLING, FollowUpKind.RISK_ALERT})


class FollowUp(db.Model):
    __tablename__ = "followups"
    __table_args__ = (
        CheckConstraint("member_id IS NOT NULL OR pairing_id IS NOT NULL", name="has_subject"),
        Index("ix_followups_assignee_open", "assignee_id", "done_at", "due_on"),
        # max(done_at) is part of the statistics cache's freshness stamp (crm.stats.cache)
        Index("ix_followups_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic locking (version_id_col): completing a follow-up someone else changed since it was shown
    # raises StaleDataError and the view shows both versions (crm.conflicts).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    due_on: Mapped[date]
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    member: Mapped[Member | None] = relationship()
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    pairing = relationship("Pairing")
    kind: Mapped[FollowUpKind] = mapped_column(enum_type(FollowUpKind), default=FollowUpKind.OTHER)
    title: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<FollowUp {self.id} {self.due_on}>"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, on: date) -> bool:
        return self.done_at is None and self.due_on < on
