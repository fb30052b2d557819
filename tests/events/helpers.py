"""Small builders for event tests."""

from datetime import timedelta

from sqlalchemy import select

from crm.clock import as_of, now_utc
from crm.events.models import Event, EventRegistration, EventStatus
from crm.extensions import db


def make_event(branch, **overrides) -> Event:
    start = now_utc() + timedelta(days=7)
    fields = {"title": "七夕联谊会", "starts_at": start, "ends_at": start + timedelta(hours=3),
              "place": "西湖文化广场", "capacity": 10, "branch_id": branch.id, "status": EventStatus.OPEN,
              **overrides}
    event = Event(**fields)
    event.hosts = [branch]
    db.session.add(event)
    db.session.flush()
    return event


def before_start(event):
    """The clock a day before ``event`` starts (sign-up closes at the start): ``with before_start(e): ...``."""
    return as_of(event.starts_at - timedelta(days=1))


def at_the_door(event):
    """The clock ten minutes into ``event`` (check-in is open on the event's day only)."""
    return as_of(event.starts_at + timedelta(minutes=10))


def enter_choices(client, csrf, scene, who, badges):
    """POST the choices page of ``scene``'s (tests/events/conftest.py: held_event) attendee ``who``."""
    reg = scene["regs"][who]
    version = db.session.scalar(
        select(EventRegistration.choices_version).where(EventRegistration.id == reg.id))
    return client.post(f"/events/{scene['event'].id}/choices/{reg.id}",
                       data={"csrf_token": csrf(), "badges": badges, "version": str(version)})
