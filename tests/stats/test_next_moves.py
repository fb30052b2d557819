"""stage_changes.next_at (crm.pairings.next_moves) equals LEAD(at) over each pair's history after every kind
of write: proposals, back-and-forth moves, a close and a reopening, history written directly (out of order
too), erasure; rebuild() and the migration's backfill compute the same; the median days per stage read from
it equal the median recomputed from the history with the window."""

import importlib.util
import statistics
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Member
from crm.pairings import next_moves, pipeline
from crm.pairings.models import PairingCloseReason, Stage, StageChange
from crm.privacy import erasure
from crm.stats import queries
from crm.stats.definitions import Period
from tests.factories import make_member, make_user
from tests.pairings.helpers import both_yes, proposed
from tests.stats import scene

MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_stage_changes_next_at.py"))


def _stored():
    return dict(db.session.execute(select(StageChange.id, StageChange.next_at)).all())


def _recomputed():
    return dict(db.session.execute(next_moves.recomputed()).all())


def _history(pairing_id):
    return db.session.execute(select(StageChange.to_stage, StageChange.at, StageChange.next_at)
                              .where(StageChange.pairing_id == pairing_id).order_by(StageChange.id)).all()


def test_back_and_forth_close_reopen_and_erasure_keep_next_at_equal_to_the_history(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)  # -> introduced
    pipeline.move(pairing, Stage.DATING, vol_a)  # skips first_meeting
    supervisor = make_user("supervisor", branch=a.branch)
    for reason in (PairingCloseReason.NO_CHEMISTRY, PairingCloseReason.LOST_CONTACT):  # back and forth, twice
        pipeline.move(pairing, Stage.CLOSED, vol_a, close_reason=reason)
        pipeline.move(pairing, Stage.DATING, supervisor, note="两人又联系上了")  # reopened
    pipeline.move(pairing, Stage.RELATIONSHIP, vol_a)
    db.session.flush()
    db.session.expire_all()

    rows = _history(pairing.id)
    assert len(rows) >= 8
    assert [r.next_at for r in rows[:-1]] == [r.at for r in rows[1:]]  # each move ends the one before
    assert rows[-1].next_at is None  # the latest move has no next yet
    assert _stored() == _recomputed()

    # Another pair's history written directly, the last row dated before the one before it: "next" is history order.
    c, d = make_member(owner=vol_a), make_member(owner=vol_b)
    early = now_utc() - timedelta(days=40)
    other = scene.make_pair(c, d, [(Stage.PROPOSED, early), (Stage.INTRODUCED, early + timedelta(days=20))])
    db.session.add(StageChange(pairing_id=other.id, from_stage=Stage.INTRODUCED, to_stage=Stage.FIRST_MEETING,
                               at=early + timedelta(days=10)))
    db.session.flush()
    db.session.expire_all()
    assert _history(other.id)[1].next_at == early + timedelta(days=10)
    assert _stored() == _recomputed()

    before = _stored()
    erasure.erase_member(db.session.get(Member, a.id), supervisor, "会员本人要求删除")
    db.session.flush()
    assert _stored() == _recomputed() == before


def test_rebuild_and_the_migration_backfill_compute_the_same_column(db, app, ctx):
    assert scene.build() is not None
    kept = _stored()
    assert kept == _recomputed() and any(v is not None for v in kept.values())

    db.session.execute(update(StageChange).values(next_at=None))
    next_moves.rebuild()
    assert _stored() == kept

    spec = importlib.util.spec_from_file_location("next_at_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(update(StageChange).values(next_at=None))
    db.session.execute(text(migration.BACKFILL))
    assert _stored() == kept


def _moment(value):
    """A timestamp from raw SQL: SQLite returns text, PostgreSQL a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def test_median_days_per_stage_equal_the_median_recomputed_from_the_history(db, app, ctx):
    assert scene.build() is not None
    period = scene.MARCH
    window = text("SELECT to_stage, at, lead(at) OVER (PARTITION BY pairing_id ORDER BY id) FROM stage_changes")
    days: dict[str, list[float]] = {}
    for stage, at, nxt in db.session.execute(window).all():
        at, nxt = _moment(at), _moment(nxt)
        if nxt is not None and period.since <= at < period.until:
            days.setdefault(stage, []).append((nxt - at).total_seconds() / 86400)
    expected = {stage: round(statistics.median(ds), 1) for stage, ds in days.items()}
    assert expected  # the scene has moves with a next move in the period
    assert queries.median_days_in_stage(period, None) == expected
    whole = Period(period.start - timedelta(days=3650), period.end + timedelta(days=3650))
    assert queries.median_days_in_stage(whole, None).keys() >= expected.keys()
