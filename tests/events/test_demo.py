"""The demo data has a held event with attendance and mutual pairs, and an open upcoming one."""

from sqlalchemy import func, select

from crm.events.models import Event, EventChoice, EventStatus, RegistrationStatus
from crm.pairings.models import Pairing, Source, Stage


def test_seed_demo_adds_events(app, db):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--members", "80"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    events = {e.status: e for e in db.session.scalars(select(Event))}
    assert set(events) >= {EventStatus.HELD, EventStatus.OPEN, EventStatus.PLANNED}
    held = events[EventStatus.HELD]
    statuses = [r.status for r in held.registrations]
    assert RegistrationStatus.ATTENDED in statuses
    assert db.session.scalar(select(func.count()).select_from(EventChoice)) > 0
    ids = set(db.session.scalars(select(EventChoice.pairing_id).where(EventChoice.pairing_id.is_not(None))))
    from_event = db.session.scalars(select(Pairing).where(Pairing.id.in_(ids))).all()
    assert from_event and all(p.source is Source.EVENT for p in from_event)
    assert {p.stage for p in from_event} <= {Stage.INTRODUCED, Stage.DATING}
    assert events[EventStatus.OPEN].registrations
