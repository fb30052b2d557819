"""Mixer events (联谊活动): the event, who is registered for it and the choices made there.

The rules that decide registered or waitlisted live in :mod:`crm.events.services` (``place_for``);
the database keeps what must never break: one registration per member and event, one choice per
chooser and chosen, and a capacity and quota that make sense.
"""

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Branch, User
from crm.clock import now_utc
from crm.enums import LabelledEnum, enum_type, values_check
from crm.extensions import db
from crm.members.models import Member


class EventStatus(LabelledEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    HELD = "held"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        return {"planned": _l("Planned"), "open": _l("Open for sign-up"), "closed": _l("Sign-up closed"),
                "held": _l("Held"), "cancelled": _l("Cancelled")}


class RegistrationStatus(LabelledEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @classmethod
    def _labels(cls):
        return {"registered": _l("Registered"), "waitlisted": _l("On the waiting list"),
                "cancelled": _l("Cancelled"), "attended": _l("Attended"), "no_show": _l("Did not come")}


#: Registrations that hold a place (count against capacity and the gender quota).
HOLDS_PLACE = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)


#: The branches that host an event together (the first is ``Event.branch``, the organiser).
event_hosts = Table(
    "event_hosts", db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class RegistrationChannel(LabelledEnum):
    """Who made a sign-up: a volunteer for their member, or the member on the public event page."""

    VOLUNTEER = "volunteer"
    SELF = "self"

    @classmethod
    def _labels(cls):
        return {"volunteer": _l("By a volunteer"), "self": _l("By the member")}


def new_public_token() -> str:
    """The event's public sign-up address part: random, so event ids cannot be walked."""
    return secrets.token_urlsafe(16)


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("max_gender_percent IS NULL OR max_gender_percent BETWEEN 50 AND 100",
                        name="gender_percent_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_band_order"),
        Index("ix_events_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]  # naive UTC, like every timestamp
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)  # the organiser
    branch: Mapped[Branch] = relationship()
    hosts: Mapped[list[Branch]] = relationship(secondary=event_hosts, order_by="Branch.id")
    capacity: Mapped[int]
    # At most this share (in %) of the places held by one gender; None = no quota.
    max_gender_percent: Mapped[int | None]
    signup_deadline: Mapped[datetime | None]
    # Target group: empty = everyone eligible.
    occupation_category: Mapped[str | None] = mapped_column(String(24))
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    status: Mapped[EventStatus] = mapped_column(enum_type(EventStatus), default=EventStatus.PLANNED)
    # The public sign-up page /events/join/<public_token> (members sign themselves up while open).
    public_token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    registrations: Mapped[list["EventRegistration"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventRegistration.id")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Event {self.id} {self.status.value}>"

    @property
    def host_ids(self) -> set[int]:
        return {b.id for b in self.hosts} | {self.branch_id}

    @property
    def is_over(self) -> bool:
        """Held or cancelled: its details and its sign-ups no longer change."""
        return self.status in (EventStatus.HELD, EventStatus.CANCELLED)


class EventRegistration(db.Model):
    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", name="uq_event_registrations_member"),
        UniqueConstraint("event_id", "badge_number", name="uq_event_registrations_badge"),
        CheckConstraint("badge_number > 0", name="badge_number_positive"),
        CheckConstraint(values_check("status", RegistrationStatus), name="status_known"),
        CheckConstraint(values_check("channel", RegistrationChannel), name="channel_known"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
        Index("ix_event_registrations_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    event: Mapped[Event] = relationship(back_populates="registrations")
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member: Mapped[Member] = relationship()
    status: Mapped[RegistrationStatus] = mapped_column(enum_type(RegistrationStatus),
                                                       default=RegistrationStatus.REGISTERED)
    # The number on the badge and at the door, per event (1, 2, 3 ...).
    badge_number: Mapped[int]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    # "self": the member signed up on the public page (registered_by is then None).
    channel: Mapped[RegistrationChannel] = mapped_column(enum_type(RegistrationChannel),
                                                         default=RegistrationChannel.VOLUNTEER)
    registered_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Order on the waiting list (smaller = earlier); kept after promotion for the record.
    waitlist_position: Mapped[int | None]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])
    # Optimistic locking of this attendee's choices (the choices page): raised by each save of the choices.
    choices_version: Mapped[int] = mapped_column(default=1, server_default="1")

    def __repr__(self):
        return f"<EventRegistration {self.event_id}/{self.member_id} {self.status.value}>"

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE


class EventChoice(db.Model):
    """One attendee's wish to meet another (缘分意向卡). Private to the chooser's side unless mutual."""

    __tablename__ = "event_choices"
    __table_args__ = (
        UniqueConstraint("event_id", "chooser_id", "chosen_id", name="uq_event_choices_pair"),
        CheckConstraint("chooser_id <> chosen_id", name="not_self"),
        Index("ix_event_choices_chosen", "event_id", "chosen_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    event: Mapped[Event] = relationship()
    chooser_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    chooser: Mapped[Member] = relationship(foreign_keys=[chooser_id])
    chosen_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    chosen: Mapped[Member] = relationship(foreign_keys=[chosen_id])
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_by: Mapped[User | None] = relationship()
    entered_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Set when the choice was found mutual and became (or met) a pairing.
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="SET NULL"))
