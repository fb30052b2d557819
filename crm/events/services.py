"""Mixer events: the sign-up rules (capacity, gender quota, waiting list), check-in, the end of
the event and the mutual choices that become introductions.

``place_for`` is THE rule deciding registered or waitlisted; ``_promote`` applies it, in order,
whenever a place may have freed. Every change that counts places first takes ``lock_event``:
on SQLite each transaction already holds the write lock from its start (BEGIN IMMEDIATE, see
crm.database), on PostgreSQL the event row is locked (SELECT ... FOR UPDATE), so two sign-ups for
the last place are decided one after the other, never both from the same count.

Services flush and never commit; the view commits once.
"""

import logging
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.auth import policy
from crm.clock import local_date, now_utc
from crm.database import as_id
from crm.errors import Refusal
from crm.events.models import (
    HOLDS_PLACE,
    Event,
    EventChoice,
    EventRegistration,
    EventStatus,
    RegistrationChannel,
    RegistrationStatus,
)
from crm.extensions import db
from crm.members.models import Gender, Member, MemberStatus

log = logging.getLogger(__name__)


# --- The rule ----------------------------------------------------------------------------------

def gender_limit(capacity: int, max_gender_percent: int | None) -> int:
    """How many places one gender may hold: the quota is a share of the capacity (rounded down),
    so that the other gender's places stay open however sign-ups arrive."""
    if max_gender_percent is None:
        return capacity
    return capacity * max_gender_percent // 100


def place_for(capacity: int, max_gender_percent: int | None, held: dict, gender) -> RegistrationStatus:
    """Registered when a place is free and the member's gender is under its quota, else waitlisted.

    ``held``: places already held, per gender (registered, attended or no-show).
    """
    if sum(held.values()) >= capacity:
        return RegistrationStatus.WAITLISTED
    if held.get(gender, 0) >= gender_limit(capacity, max_gender_percent):
        return RegistrationStatus.WAITLISTED
    return RegistrationStatus.REGISTERED


# --- Locking and counting ----------------------------------------------------------------------

def lock_event(event_id: int) -> Event | None:
    """The event, locked against concurrent sign-ups for the rest of the transaction (re-read)."""
    stmt = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    elif dialect == "sqlite":
        # Take SQLite's write lock now, before counting: a no-op write does it whatever the transaction
        # began as (crm.database begins POSTs with BEGIN IMMEDIATE and upgrades any other transaction to
        # BEGIN IMMEDIATE before its first write, leaving its read snapshot). Everything read from here on
        # is the latest committed state, and no other writer can commit until this transaction ends.
        db.session.execute(text("UPDATE events SET version = version WHERE id = :id"), {"id": event_id})
    return db.session.scalars(stmt).first()


def held_places(event_id: int) -> dict[Gender, int]:
    rows = db.session.execute(
        select(Member.gender, func.count()).join(EventRegistration, EventRegistration.member_id == Member.id)
        .where(EventRegistration.event_id == event_id, EventRegistration.status.in_(HOLDS_PLACE))
        .group_by(Member.gender)).all()
    return {gender: n for gender, n in rows}


def _next(column, event_id: int) -> int:
    return (db.session.scalar(select(func.max(column)).where(EventRegistration.event_id == event_id)) or 0) + 1


# --- Events ------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "starts_at", "ends_at", "place", "capacity", "max_gender_percent",
            "signup_deadline", "occupation_category", "age_min", "age_max")


def _check_event_fields(data: dict) -> None:
    if data["ends_at"] <= data["starts_at"]:
        raise Refusal(_l("The event must end after it starts."), field="ends_at")
    if data.get("signup_deadline") and data["signup_deadline"] > data["starts_at"]:
        raise Refusal(_l("The sign-up deadline must be before the event starts."), field="signup_deadline")
    if data.get("age_min") and data.get("age_max") and data["age_min"] > data["age_max"]:
        raise Refusal(_l("The lowest age must not be above the highest."), field="age_max")
    if gender_limit(data["capacity"], data.get("max_gender_percent")) < 1:  # 50% of 1 place: 0 for each gender
        raise Refusal(_l("With so few places this quota leaves none for either gender: raise the capacity "
                         "or leave the quota empty."), field="max_gender_percent")


def create_event(by, data: dict, host_branches) -> Event:
    if not policy.can_create_event(by):
        raise Refusal(_l("Only supervisors and administrators organise events."), field="title")
    _check_event_fields(data)
    event = Event(branch_id=by.branch_id, created_by_id=by.id, status=EventStatus.PLANNED,
                  **{k: data.get(k) for k in EDITABLE})
    event.hosts = _hosts(by.branch, host_branches)
    db.session.add(event)
    db.session.flush()
    record(by, "event.create", event, title=event.title, capacity=event.capacity)
    return event


def _hosts(organiser, host_branches):
    """The organising branch and the co-hosts chosen (whoever makes or edits the event)."""
    hosts = {b.id: b for b in host_branches}
    hosts.setdefault(organiser.id, organiser)
    return sorted(hosts.values(), key=lambda b: b.id)


def edit_refusal(event: Event):
    """Why ``event`` can no longer be edited, or None."""
    if event.is_over:
        return _l("A held or cancelled event can no longer be changed.")
    return None


def update_event(event: Event, by, data: dict, host_branches=None) -> Event:
    """Change an event. A lower capacity or quota never drops anyone already holding a place;
    a higher one promotes from the waiting list at once."""
    if not policy.can_manage_event(by, event):
        raise Refusal(_l("You may not change this event."), field="title")
    event = lock_event(event.id)
    refusal = edit_refusal(event)
    if refusal:
        raise Refusal(refusal, field="title")
    _check_event_fields(data)
    held = held_places(event.id)
    if data["capacity"] < sum(held.values()):
        raise Refusal(_l("%(n)s members already hold a place; the capacity cannot be lower.",
                         n=sum(held.values())), field="capacity")
    limit = gender_limit(data["capacity"], data.get("max_gender_percent"))
    if any(n > limit for n in held.values()):
        raise Refusal(_l("More members of one gender already hold a place than this quota allows."),
                      field="max_gender_percent")
    changed = {k: str(data.get(k)) for k in EDITABLE if getattr(event, k) != data.get(k)}
    for k in EDITABLE:
        setattr(event, k, data.get(k))
    if host_branches is not None:
        event.hosts = _hosts(event.branch, host_branches)
    db.session.flush()
    record(by, "event.edit", event, changed=sorted(changed))
    _promote(event, by)
    return event


#: status -> the statuses a manager may set next (``held`` goes through ``mark_held``).
STATUS_MOVES = {
    EventStatus.PLANNED: (EventStatus.OPEN, EventStatus.CANCELLED),
    EventStatus.OPEN: (EventStatus.CLOSED, EventStatus.CANCELLED),
    EventStatus.CLOSED: (EventStatus.OPEN, EventStatus.CANCELLED),
    EventStatus.HELD: (),
    EventStatus.CANCELLED: (),
}


def set_status(event: Event, to: EventStatus, by) -> None:
    if not policy.can_manage_event(by, event):
        raise Refusal(_l("You may not change this event."), field="status")
    if to is EventStatus.HELD:
        return mark_held(event, by)
    if to not in STATUS_MOVES[event.status]:
        raise Refusal(_l("An event cannot go from “%(from)s” to “%(to)s”.",
                         **{"from": event.status.label, "to": to.label}), field="status")
    old = event.status
    event.status = to
    db.session.flush()
    record(by, "event.status", event, old=old.value, new=to.value)


def mark_held(event: Event, by) -> int:
    """The event took place: whoever is still only registered did not come. Returns that number."""
    if not policy.can_manage_event(by, event):
        raise Refusal(_l("You may not change this event."), field="status")
    event = lock_event(event.id)
    if event.status not in (EventStatus.OPEN, EventStatus.CLOSED):
        raise Refusal(_l("Only an open or closed event can be marked as held."), field="status")
    if now_utc() < event.starts_at:
        raise Refusal(_l("The event has not started yet."), field="status")
    result = db.session.execute(
        update(EventRegistration).where(EventRegistration.event_id == event.id,
                                        EventRegistration.status == RegistrationStatus.REGISTERED)
        .values(status=RegistrationStatus.NO_SHOW).execution_options(synchronize_session="fetch"))
    old = event.status
    event.status = EventStatus.HELD
    db.session.flush()
    record(by, "event.status", event, old=old.value, new=EventStatus.HELD.value, no_shows=result.rowcount)
    return result.rowcount


# --- Registration ------------------------------------------------------------------------------

def age_on(member: Member, day) -> int:
    born = member.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def eligibility_refusal(event: Event, member: Member):
    """Why ``member`` may not take part in ``event``, or None."""
    if member.erased_at is not None or member.status is not MemberStatus.ACTIVE:
        return _l("Only active members can sign up for an event.")
    if not member.is_verified:
        return _l("Only verified members (real name, employer and pledge) can sign up for an event.")
    if not member.processing_consent:
        return _l("This member has withdrawn consent to data processing: they cannot sign up for an event.")
    if event.occupation_category and member.occupation_category != event.occupation_category:
        return _l("This event is for another occupation group.")
    age = age_on(member, event.starts_at.date())
    if (event.age_min and age < event.age_min) or (event.age_max and age > event.age_max):
        return _l("This event is for members aged %(min)s to %(max)s.",
                  min=event.age_min or "—", max=event.age_max or "—")
    return None


def signup_refusal(event: Event, at: datetime):
    """Why nobody can sign up for ``event`` at ``at``, or None. Sign-up closes at the deadline, and
    at the start when the event has none."""
    if event.status is not EventStatus.OPEN:
        return _l("This event is not open for sign-up.")
    if event.signup_deadline and at > event.signup_deadline:
        return _l("The sign-up deadline has passed.")
    if at >= event.starts_at:
        return _l("The event has started: sign-up is closed.")
    return None


def register(event: Event, member: Member, by) -> EventRegistration:
    """Sign ``member`` up: a place if one is free within the quota, else the waiting list."""
    if not policy.can_register_member(by, member):
        raise Refusal(_l("You can only sign up members you look after."), field="member_id")
    return _sign_up(event, member, by, RegistrationChannel.VOLUNTEER)


def _sign_up(event: Event, member: Member, by, channel: RegistrationChannel) -> EventRegistration:
    """THE sign-up path of both channels (``by`` None: the member on the public page)."""
    event = lock_event(event.id)
    at = now_utc()
    refusal = signup_refusal(event, at) or eligibility_refusal(event, member)
    if refusal:
        raise Refusal(refusal, field="member_id")
    registration = db.session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.member_id == member.id)).first()
    if registration is not None and registration.status is not RegistrationStatus.CANCELLED:
        raise Refusal(_l("This member is already signed up (%(status)s).", status=registration.status.label),
                      field="member_id")
    status = place_for(event.capacity, event.max_gender_percent, held_places(event.id), member.gender)
    if registration is None:
        registration = EventRegistration(event_id=event.id, member_id=member.id,
                                         badge_number=_next(EventRegistration.badge_number, event.id))
        db.session.add(registration)
    registration.status = status
    registration.registered_by_id = by.id if by is not None else None
    registration.channel = channel
    registration.registered_at = at
    registration.cancelled_at = None
    registration.waitlist_position = (_next(EventRegistration.waitlist_position, event.id)
                                      if status is RegistrationStatus.WAITLISTED else None)
    db.session.flush()
    record(by, "event.register", registration, event=event.id, member=member.id, status=status.value,
           channel=channel.value)
    log.info("member %s %s for event %s by %r (%s)", member.id, status.value, event.id, by, channel.value)
    return registration


def cancel_registration(registration: EventRegistration, by) -> list[EventRegistration]:
    """Cancel a sign-up; a freed place goes to the waiting list in order. Returns the promoted."""
    if not policy.can_register_member(by, registration.member):
        raise Refusal(_l("You can only cancel sign-ups of members you look after."), field="member_id")
    return _cancel(registration, by)


def _cancel(registration: EventRegistration, by, reason: str | None = None) -> list[EventRegistration]:
    """THE cancellation path of both channels (``by`` None: the member on the public page), and of a
    cancellation for a ``reason`` (the member's erasure, possibly by the retention job: ``by`` None too)."""
    event = lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
        raise Refusal(_l("This sign-up can no longer be cancelled."), field="member_id")
    if event.is_over:
        raise Refusal(_l("This event is over; its sign-ups can no longer change."), field="member_id")
    old = registration.status
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now_utc()
    db.session.flush()
    how = ({"reason": reason} if reason else
           {"channel": (RegistrationChannel.VOLUNTEER if by is not None else RegistrationChannel.SELF).value})
    record(by, "event.cancel_registration", registration, event=event.id, member=registration.member_id,
           old=old.value, **how)
    return _promote(event, by)


def withdraw_from_events(member: Member, by) -> list[EventRegistration]:
    """Cancel ``member``'s open sign-ups (registered or waiting) for every event not yet held or cancelled,
    each through the one cancellation path, so that a freed place goes to the waiting list. For a member
    who leaves for good (erasure). Returns the cancelled registrations."""
    open_regs = db.session.scalars(
        select(EventRegistration).join(EventRegistration.event)
        .where(EventRegistration.member_id == member.id,
               EventRegistration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]),
               Event.status.not_in([EventStatus.HELD, EventStatus.CANCELLED]))
        .order_by(EventRegistration.event_id)).all()
    for registration in open_regs:
        _cancel(registration, by, reason="erasure")
    return open_regs


# --- Members signing themselves up (the public event page) ----------------------------------------

def find_self(phone: str, id_last4: str) -> Member | None:
    """The one active, verified member with this mobile number and these last 4 ID characters who consents
    to data processing, or None (also when nothing, or more than one member, matches: the caller never says
    which)."""
    phone, id_last4 = (phone or "").strip(), (id_last4 or "").strip().upper()
    if len(phone) != 11 or not phone.isascii() or not phone.isdigit() or len(id_last4) != 4:
        return None
    found = db.session.scalars(select(Member).where(
        Member.phone_last4 == phone[-4:], Member.phone == phone, Member.id_last4 == id_last4,
        Member.status == MemberStatus.ACTIVE, Member.erased_at.is_(None),
        Member.processing_consent.is_(True)).limit(2)).all()
    if len(found) != 1 or not found[0].is_verified:
        return None
    return found[0]


def registration_of(event: Event, member: Member) -> EventRegistration | None:
    return db.session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.member_id == member.id)).first()


def self_register(event: Event, member: Member) -> tuple[EventRegistration, bool]:
    """The member signs up on the public page, through the same rule as a volunteer's sign-up.
    Returns (registration, False) without writing when they already hold a place or wait for one."""
    registration = registration_of(event, member)
    if registration is not None and registration.status is not RegistrationStatus.CANCELLED:
        return registration, False
    return _sign_up(event, member, None, RegistrationChannel.SELF), True


def self_cancel(event: Event, member: Member) -> EventRegistration:
    """The member cancels their own sign-up; the waiting list moves up as for any cancellation."""
    registration = registration_of(event, member)
    if registration is None or registration.status not in (RegistrationStatus.REGISTERED,
                                                           RegistrationStatus.WAITLISTED):
        raise Refusal(_l("You have no sign-up for this event that can be cancelled."), field="phone")
    _cancel(registration, None)
    return registration


def waiting_place(registration: EventRegistration) -> int | None:
    """Where a waitlisted registration stands now (1 = next), or None."""
    if registration.status is not RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(EventRegistration).where(
        EventRegistration.event_id == registration.event_id,
        EventRegistration.status == RegistrationStatus.WAITLISTED,
        (EventRegistration.waitlist_position < registration.waitlist_position)
        | ((EventRegistration.waitlist_position == registration.waitlist_position)
           & (EventRegistration.id < registration.id))))
    return ahead + 1


def _promote(event: Event, by) -> list[EventRegistration]:
    """Give free places to the waiting list in order; someone whose gender is at its quota, or who could
    not sign up now (``eligibility_refusal``: paused, closed, consent withdrawn...), is passed over
    (keeping their turn) for the next one who fits. Caller holds the event lock."""
    promoted = []
    waiting = db.session.scalars(
        select(EventRegistration).join(EventRegistration.member).options(contains_eager(EventRegistration.member))
        .where(EventRegistration.event_id == event.id,
               EventRegistration.status == RegistrationStatus.WAITLISTED)
        .order_by(EventRegistration.waitlist_position, EventRegistration.id)).all()
    held = held_places(event.id)
    for registration in waiting:
        if eligibility_refusal(event, registration.member):
            continue
        gender = registration.member.gender
        if place_for(event.capacity, event.max_gender_percent, held, gender) is RegistrationStatus.REGISTERED:
            registration.status = RegistrationStatus.REGISTERED
            held[gender] = held.get(gender, 0) + 1
            promoted.append(registration)
            record(by, "event.promote", registration, event=event.id, member=registration.member_id)
    db.session.flush()
    return promoted


# --- Door ----------------------------------------------------------------------------------------

def check_in_refusal(event: Event, at: datetime):
    """Why nobody can be checked in at ``event`` at ``at``, or None: check-in is open on the event's
    day(s) in local time, from the start of its first day to the end of its last, once it is open
    (a held event still takes a late arrival that day)."""
    if event.status not in (EventStatus.OPEN, EventStatus.CLOSED, EventStatus.HELD):
        return _l("Check-in is open only on the day of an open or closed event.")
    if not local_date(event.starts_at) <= local_date(at) <= local_date(event.ends_at):
        return _l("Check-in is open only on the day of an open or closed event.")
    return None


def check_in(registration: EventRegistration, by) -> bool:
    """Mark attended. Idempotent: a second tap (by anyone, at the same moment) changes nothing.
    Returns True when this call checked the member in."""
    if not policy.can_run_event(by, registration.event):
        raise Refusal(_l("You may not check people in at this event."), field="registration")
    refusal = check_in_refusal(registration.event, now_utc())
    if refusal:
        raise Refusal(refusal, field="registration")
    # One conditional UPDATE: of two volunteers tapping at once, one changes the row, the other none.
    result = db.session.execute(
        update(EventRegistration)
        .where(EventRegistration.id == registration.id,
               EventRegistration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.NO_SHOW]))
        .values(status=RegistrationStatus.ATTENDED, checked_in_at=now_utc(), checked_in_by_id=by.id)
        .execution_options(synchronize_session=False))
    db.session.refresh(registration)
    if result.rowcount:
        record(by, "event.check_in", registration, event=registration.event_id, member=registration.member_id)
        return True
    if registration.status is not RegistrationStatus.ATTENDED:
        raise Refusal(_l("Only members with a place can be checked in (this one: %(status)s).",
                         status=registration.status.label), field="registration")
    return False


def door_search(event: Event, q: str, limit: int = 30) -> list[EventRegistration]:
    """Registrations matching a badge number, a name (part), a pinyin or initials prefix."""
    from sqlalchemy import and_, or_

    from crm.members.pinyin import name_keys

    q = (q or "").strip()[:40]
    stmt = (select(EventRegistration).join(EventRegistration.member)
            .options(contains_eager(EventRegistration.member))
            .where(EventRegistration.event_id == event.id,
                   EventRegistration.status.in_(HOLDS_PLACE + (RegistrationStatus.WAITLISTED,))))
    if q:
        if q.isascii() and q.isdigit():  # "²" passes isdigit() but is no number int() reads
            condition = EventRegistration.badge_number == int(q) if len(q) <= 6 else Member.id == -1
        elif q.isascii():
            key = "".join(ch for ch in q.lower() if ch.isalpha())
            condition = (or_(and_(Member.name_pinyin >= key, Member.name_pinyin < key + "{"),
                             and_(Member.name_initials >= key, Member.name_initials < key + "{"))
                         if key else Member.id == -1)
        else:
            condition = or_(Member.name.contains(q, autoescape=True), Member.name_pinyin == name_keys(q)[0])
        stmt = stmt.where(condition)
    return list(db.session.scalars(stmt.order_by(EventRegistration.badge_number).limit(limit)))


# --- Choices -------------------------------------------------------------------------------------

def choices_of(event: Event, chooser: Member) -> list[EventChoice]:
    return list(db.session.scalars(select(EventChoice).where(
        EventChoice.event_id == event.id, EventChoice.chooser_id == chooser.id).order_by(EventChoice.id)))


def set_choices(event: Event, chooser_reg: EventRegistration, badge_numbers: list[int], by,
                max_choices: int, version: int | str | None = None) -> list:
    """Record the members ``chooser`` would like to meet (by badge number). Choices that meet a
    choice of the other side become introductions, once both members are free to meet someone
    (``Member.can_be_introduced``). Returns the pairings made or found.

    ``version``: the ``choices_version`` the form was opened on; if the choices were saved since, raises
    StaleDataError and writes nothing (None: no check, for the demo data and tests)."""
    chooser = chooser_reg.member
    if not policy.can_enter_choices(by, event, chooser):
        raise Refusal(_l("You can only enter the choices of members you look after."), field="badges")
    event = lock_event(event.id)
    _claim_choices_version(chooser_reg, version)
    if event.status is not EventStatus.HELD:
        raise Refusal(_l("Choices are entered after the event has been marked as held."), field="badges")
    if chooser_reg.status is not RegistrationStatus.ATTENDED:
        raise Refusal(_l("Only members who attended can choose."), field="badges")
    numbers = list(dict.fromkeys(badge_numbers))
    if len(numbers) > max_choices:
        raise Refusal(_l("At most %(n)s choices per member.", n=max_choices), field="badges")
    regs = {r.badge_number: r for r in db.session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.badge_number.in_(numbers or [-1])))}
    chosen = []
    for number in numbers:
        reg = regs.get(number)
        if reg is None or reg.status is not RegistrationStatus.ATTENDED:
            raise Refusal(_l("No. %(n)s did not attend this event.", n=number), field="badges")
        if reg.member_id == chooser.id:
            raise Refusal(_l("No. %(n)s is this member's own number.", n=number), field="badges")
        if reg.member.gender is chooser.gender:
            raise Refusal(_l("No. %(n)s cannot be chosen by this member.", n=number), field="badges")
        chosen.append(reg.member)
    existing = {c.chosen_id: c for c in choices_of(event, chooser)}
    wanted = {m.id for m in chosen}
    for chosen_id, choice in existing.items():
        if chosen_id not in wanted:
            if choice.pairing_id is not None:
                raise Refusal(_l("A choice that became an introduction cannot be taken back here."),
                              field="badges")
            db.session.delete(choice)
    for member in chosen:
        if member.id not in existing:
            db.session.add(EventChoice(event_id=event.id, chooser_id=chooser.id, chosen_id=member.id,
                                       entered_by_id=by.id))
    db.session.flush()
    # The audit entry names the chooser only: who was chosen stays with the chooser's side.
    record(by, "event.choices", chooser_reg, event=event.id, member=chooser.id, count=len(chosen))
    return _convert_mutual(event, chooser, by)


def _claim_choices_version(reg: EventRegistration, version) -> None:
    """Raise the attendee's choices version, only if it still is ``version`` (one atomic UPDATE, so that of
    two saves opened on the same version exactly one wins, whatever the timing)."""
    stmt = update(EventRegistration).where(EventRegistration.id == reg.id).values(
        choices_version=EventRegistration.choices_version + 1).execution_options(synchronize_session=False)
    if version is not None:
        expected = as_id(version) or -1  # a version is a positive number; anything else matches no row
        stmt = stmt.where(EventRegistration.choices_version == expected)
    if db.session.execute(stmt).rowcount != 1:
        raise StaleDataError(f"choices of registration {reg.id} were saved meanwhile")
    db.session.expire(reg, ["choices_version"])


def _convert_mutual(event: Event, chooser: Member, by) -> list:
    from crm.pairings.services import create_from_mutual_choice

    mine = choices_of(event, chooser)
    theirs = {c.chooser_id: c for c in db.session.scalars(select(EventChoice).where(
        EventChoice.event_id == event.id, EventChoice.chosen_id == chooser.id))}
    pairings = []
    for choice in mine:
        back = theirs.get(choice.chosen_id)
        if back is None or not (chooser.can_be_introduced and choice.chosen.can_be_introduced):
            # One-sided; or one of the two has since paused, closed their case, begun a relationship or
            # withdrawn consent (Member.can_be_introduced): the choice is kept, becomes an introduction if
            # they are free when choices are next saved, and says nothing to the other side meanwhile.
            continue
        if choice.pairing_id is None or back.pairing_id is None:
            pairing, created = create_from_mutual_choice(chooser, choice.chosen, by, event=event)
            choice.pairing_id = back.pairing_id = pairing.id
            record(by, "event.mutual", pairing, event=event.id, created=created)
            pairings.append(pairing)
    db.session.flush()
    return pairings


# --- Report --------------------------------------------------------------------------------------

def mutual_pairing_ids(event: Event) -> list[int]:
    return list(db.session.scalars(select(EventChoice.pairing_id).where(
        EventChoice.event_id == event.id, EventChoice.pairing_id.is_not(None))
        .distinct().order_by(EventChoice.pairing_id)))


def report(event: Event) -> dict:
    from crm.pairings.models import Stage, StageChange

    rows = db.session.execute(
        select(Member.gender, EventRegistration.status, func.count())
        .join(EventRegistration, EventRegistration.member_id == Member.id)
        .where(EventRegistration.event_id == event.id)
        .group_by(Member.gender, EventRegistration.status)).all()
    by = {(g, s): n for g, s, n in rows}
    genders = {}
    for g in Gender:
        registered = sum(by.get((g, s), 0) for s in HOLDS_PLACE)
        attended = by.get((g, RegistrationStatus.ATTENDED), 0)
        genders[g] = {"registered": registered, "attended": attended,
                      "no_show": by.get((g, RegistrationStatus.NO_SHOW), 0),
                      "waitlisted": by.get((g, RegistrationStatus.WAITLISTED), 0)}
    attended = sum(v["attended"] for v in genders.values())
    no_show = sum(v["no_show"] for v in genders.values())
    pairing_ids = mutual_pairing_ids(event)
    reached = {}
    for stage in (Stage.DATING, Stage.RELATIONSHIP, Stage.MARRIED):
        later = [s for s in Stage if stage.rank <= s.rank <= Stage.MARRIED.rank]
        reached[stage] = db.session.scalar(
            select(func.count(func.distinct(StageChange.pairing_id)))
            .where(StageChange.pairing_id.in_(pairing_ids or [-1]), StageChange.to_stage.in_(later))) or 0
    return {"genders": genders, "registered": sum(v["registered"] for v in genders.values()),
            "attended": attended, "no_show": no_show,
            "no_show_rate": (no_show / (attended + no_show)) if attended + no_show else None,
            "mutual_pairs": len(pairing_ids), "reached": reached}
