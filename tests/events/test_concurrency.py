"""Concurrent sign-ups and check-ins on a real database (SQLite file here, PostgreSQL when
TEST_DATABASE_URL is set): capacity and quota are never exceeded, a double tap checks in once."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from crm.auth.models import User
from crm.clock import now_utc
from crm.errors import Refusal
from crm.events import services
from crm.events.models import HOLDS_PLACE, Event, EventRegistration, RegistrationStatus
from crm.extensions import db as _db
from crm.members.models import Gender, Member
from tests.events.helpers import before_start, make_event
from tests.factories import make_member, make_user


def _run_in_threads(app, work, items):
    barrier = threading.Barrier(len(items))
    errors = []

    def run(item):
        with app.app_context():
            try:
                barrier.wait()
                work(item)
                _db.session.commit()
            except Refusal:
                _db.session.rollback()
            except Exception as exc:  # noqa: BLE001 - reported below
                _db.session.rollback()
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_concurrent_sign_ups_never_oversell(app, db):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, capacity=5, max_gender_percent=60)  # at most 3 per gender
    members = [make_member(owner=volunteer, gender=Gender.MALE if i % 3 else Gender.FEMALE) for i in range(16)]
    event_id, user_id, ids = event.id, volunteer.id, [m.id for m in members]
    db.session.commit()
    db.session.close()  # this test's session must not hold the SQLite write lock while the threads run

    def sign_up(member_id):
        services.register(_db.session.get(Event, event_id), _db.session.get(Member, member_id),
                          _db.session.get(User, user_id))

    _run_in_threads(app, sign_up, ids)
    db.session.expire_all()
    held = dict(db.session.execute(
        select(Member.gender, func.count()).join(EventRegistration, EventRegistration.member_id == Member.id)
        .where(EventRegistration.event_id == event_id, EventRegistration.status.in_(HOLDS_PLACE))
        .group_by(Member.gender)).all())
    assert sum(held.values()) == 5
    assert max(held.values()) <= 3
    regs = db.session.scalars(select(EventRegistration).where(EventRegistration.event_id == event_id)).all()
    assert len(regs) == 16  # everyone else waits
    assert sorted(r.badge_number for r in regs) == list(range(1, 17))
    positions = sorted(r.waitlist_position for r in regs if r.status is RegistrationStatus.WAITLISTED)
    assert positions == list(range(1, 12))


def test_two_volunteers_tapping_the_same_person_check_in_once(app, db):
    from crm.audit.models import AuditEntry

    supervisor = make_user("supervisor")
    door = [make_user("volunteer", branch=supervisor.branch) for _ in range(4)]
    event = make_event(supervisor.branch, starts_at=now_utc() - timedelta(hours=1),
                       ends_at=now_utc() + timedelta(hours=2))
    with before_start(event):
        reg = services.register(event, make_member(branch=supervisor.branch), supervisor)
    reg_id, door_ids = reg.id, [u.id for u in door]
    db.session.commit()
    db.session.close()

    def tap(user_id):
        services.check_in(_db.session.get(EventRegistration, reg_id), _db.session.get(User, user_id))

    _run_in_threads(app, tap, door_ids)
    db.session.expire_all()
    assert db.session.get(EventRegistration, reg_id).status is RegistrationStatus.ATTENDED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "event.check_in")) == 1
