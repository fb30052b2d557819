"""The consent ledger: every consent given or withdrawn, kept as history (append-only).

The current state of a member's consents is the latest row per purpose; a copy of it lives on
the member (``Member.processing_consent``, ``sharing_consent``, ``photo_consent`` and
``consent_versions``) so that the case file and the suggestion index read it without a query.
Only :func:`crm.privacy.services.record_consent` writes either.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crm.auth.models import User
from crm.clock import now_utc
from crm.enums import enum_type
from crm.extensions import db
from crm.privacy.texts import Channel, Purpose


class MemberConsent(db.Model):
    __tablename__ = "member_consents"
    __table_args__ = (Index("ix_member_consents_member_purpose", "member_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    purpose: Mapped[Purpose] = mapped_column(enum_type(Purpose))
    text_version: Mapped[str] = mapped_column(String(20))
    given: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=now_utc)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User | None] = relationship()
    # Free text (e.g. "withdrawn by phone call"); personal content, so erasure blanks it.
    comment: Mapped[str | None] = mapped_column(String(300))

    def __repr__(self):
        return f"<MemberConsent {self.id} {self.purpose.value} {'given' if self.given else 'withdrawn'}>"


# Erasure may blank ``comment`` (personal content); nothing else of a ledger row ever changes.
_MUTABLE = {"comment"}


@event.listens_for(Session, "before_flush")
def _refuse_ledger_rewrites(session, _context, _instances):
    for obj in session.dirty:
        if isinstance(obj, MemberConsent) and session.is_modified(obj):
            from sqlalchemy import inspect
            changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
            if changed - _MUTABLE:
                raise PermissionError("the consent ledger is append-only")
