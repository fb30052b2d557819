"""The one source of 'now', so that tests and timestamps agree on time zones."""

from datetime import UTC, date, datetime


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return now_utc().date()
