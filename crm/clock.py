"""The one source of 'now', so that tests and timestamps agree on time zones."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta

_shift: ContextVar[timedelta] = ContextVar("clock_shift", default=timedelta(0))


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _shift.get()


def today() -> date:
    return now_utc().date()


def local_date(moment: datetime) -> date:
    """The calendar day of ``moment`` (naive UTC) where the unions are: the app's time zone
    (BABEL_DEFAULT_TIMEZONE, the zone every page shows times in)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run the block as if it were ``moment`` (naive UTC), so that what the real services write (history,
    follow-ups due dates, audit entries) is dated together. Demo data uses it to tell a pairing's story over
    months; nothing that serves a request does."""
    token = _shift.set(moment - datetime.now(UTC).replace(tzinfo=None))
    try:
        yield
    finally:
        _shift.reset(token)
