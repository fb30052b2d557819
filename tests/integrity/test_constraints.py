"""Rules that must never break are database constraints: a direct UPDATE (or INSERT) that breaks one raises
IntegrityError on SQLite and on PostgreSQL, whatever the application code does. Each case first makes an
allowed change of the same column, so the refusal is the rule's CHECK and not some other constraint."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crm.clock import now_utc
from crm.events.models import EventRegistration
from crm.extensions import db as _db
from tests import factories
from tests.counselling.helpers import make_referral, make_session
from tests.events.helpers import make_event

#: (table, allowed assignment, breaking assignment)
RULES = {
    "capacity never negative": ("users", "max_caseload = 0", "max_caseload = -1"),
    "no limit is allowed": ("users", "max_caseload = NULL", "max_caseload = -5"),
    "children never negative": ("members", "children_count = 0", "children_count = -1"),
    "partner height band ordered": ("members", "pref_height_min = 160, pref_height_max = 175",
                                    "pref_height_min = 180, pref_height_max = 170"),
    "partner age band ordered": ("members", "pref_age_min = 25, pref_age_max = 35",
                                 "pref_age_min = 40, pref_age_max = 30"),
    "height within human range": ("members", "height_cm = 165", "height_cm = 20"),
    "member status known": ("members", "status = 'paused'", "status = 'deleted'"),
    "referral status known": ("referrals", "status = 'closed'", "status = 'lost'"),
    "session lasts some time": ("counselling_sessions", "duration_minutes = 5", "duration_minutes = 0"),
    "badge numbers start at 1": ("event_registrations", "badge_number = 7", "badge_number = 0"),
    "registration status known": ("event_registrations", "status = 'attended'", "status = 'maybe'"),
    "event capacity positive": ("events", "capacity = 1", "capacity = 0"),
    "event ends after it starts": ("events", "ends_at = starts_at + INTERVAL_1H", "ends_at = starts_at"),
    "event age band ordered": ("events", "age_min = 25, age_max = 40", "age_min = 50, age_max = 30"),
    "gender quota 50-100%": ("events", "max_gender_percent = 60", "max_gender_percent = 40"),
}


@pytest.fixture
def rows(db):
    """One row in each table whose rules are checked; committed so that each statement stands alone."""
    supervisor = factories.make_user("supervisor")
    counsellor = factories.make_user("counsellor", branch=supervisor.branch)
    member = factories.make_member(branch=supervisor.branch)
    referral = make_referral(member, supervisor, counsellor=counsellor)
    make_session(referral, counsellor)
    event = make_event(supervisor.branch)
    _db.session.add(EventRegistration(event_id=event.id, member_id=member.id, badge_number=1,
                                      registered_at=now_utc()))
    _db.session.commit()
    return {"users": supervisor.id, "members": member.id, "referrals": referral.id,
            "counselling_sessions": None, "event_registrations": None, "events": event.id}


def _update(table: str, assignment: str):
    dialect = _db.engine.dialect.name
    hour = "starts_at + INTERVAL '1 hour'" if dialect == "postgresql" else "datetime(starts_at, '+1 hour')"
    assignment = assignment.replace("starts_at + INTERVAL_1H", hour)
    with _db.session.begin_nested():  # a savepoint: the refused statement leaves the session usable
        _db.session.execute(text(f"UPDATE {table} SET {assignment}"))  # every row of the table (one here)


@pytest.mark.parametrize("rule", list(RULES))
def test_a_direct_update_breaking_the_rule_is_refused_by_the_database(rows, rule):
    table, allowed, breaking = RULES[rule]
    _update(table, allowed)
    with pytest.raises(IntegrityError):
        _update(table, breaking)
    _db.session.rollback()


def test_a_direct_insert_breaking_a_rule_is_refused_too(rows):
    """The same CHECK guards an INSERT: a registration with badge number 0 (every other column valid)."""
    event_id, member_id = rows["events"], rows["members"]
    statement = text("INSERT INTO event_registrations (event_id, member_id, status, badge_number, registered_at) "
                     "VALUES (:event, :member, :status, :badge, :at)")
    values = {"event": event_id, "member": member_id, "status": "registered", "at": now_utc()}
    _db.session.execute(text("DELETE FROM event_registrations"))
    with pytest.raises(IntegrityError), _db.session.begin_nested():
        _db.session.execute(statement, {**values, "badge": 0})
    with _db.session.begin_nested():
        _db.session.execute(statement, {**values, "badge": 1})
    _db.session.rollback()
