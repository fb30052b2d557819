"""The mixer-event counters (crm.events): events held and attendances. Part of the definitions
(crm.stats.definitions lists them with the others); kept apart so the rest never imports events."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select

from crm.events.models import Event, EventRegistration, EventStatus, RegistrationStatus, event_hosts
from crm.stats.definitions import Counter, Period, _in


def _hosted_by(branch_id: int | None):
    if branch_id is None:
        return Event.id.is_not(None)
    return or_(Event.branch_id == branch_id,
               exists(select(event_hosts.c.event_id).where(event_hosts.c.event_id == Event.id,
                                                           event_hosts.c.branch_id == branch_id)))


def events_held(period: Period, branch_id: int | None):
    return select(func.count(Event.id)).where(Event.status == EventStatus.HELD, _in(Event.starts_at, period),
                                              _hosted_by(branch_id))


def attendances(period: Period, branch_id: int | None):
    return (select(func.count(EventRegistration.id)).join(Event, Event.id == EventRegistration.event_id)
            .where(EventRegistration.status == RegistrationStatus.ATTENDED, Event.status == EventStatus.HELD,
                   _in(Event.starts_at, period), _hosted_by(branch_id)))


COUNTERS = [
    Counter("events_held", _l("Events held"), _l(
        "Mixer events marked as held that started in the period, organised or co-hosted by the branch. "
        "A co-hosted event counts once in each host branch and once in total."), events_held),
    Counter("attendances", _l("Attendances"), _l(
        "Check-ins at those events: each member counts once per event they attended (not registrations, "
        "not people on the waiting list, not no-shows). Someone at three events counts three times."),
        attendances),
]
