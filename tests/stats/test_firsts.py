"""pairing_stage_firsts (crm.pairings.firsts) equals a recomputation from stage_changes after every kind of
write: proposals, forward moves, a close and a reopening, history written directly (out of order too),
erasure of a member; the migration's backfill SQL computes the same table."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Member
from crm.pairings import firsts, pipeline
from crm.pairings.models import PairingCloseReason, PairingStageFirst, Stage, StageChange
from crm.privacy import erasure
from crm.stats.definitions import first_reached
from tests.factories import make_member, make_user
from tests.pairings.helpers import both_yes, proposed
from tests.stats import scene

MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_pairing_stage_firsts.py"))


def _table():
    rows = db.session.execute(select(PairingStageFirst.pairing_id, PairingStageFirst.stage,
                                     PairingStageFirst.reached_at)).all()
    return {(p, getattr(s, "value", s), at) for p, s, at in rows}


def _recomputed():
    return {(p, getattr(s, "value", s), at) for p, s, at in db.session.execute(firsts.recomputed()).all()}


def _stages(pairing_id):
    return {s: at for p, s, at in _table() if p == pairing_id}


def test_moves_close_reopen_and_erasure_keep_the_table_equal_to_the_history(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    proposed_at = pairing.created_at
    assert _stages(pairing.id) == {"proposed": proposed_at, "awaiting_consent": proposed_at}
    both_yes(pairing, vol_a, vol_b, a, b)  # -> introduced
    pipeline.move(pairing, Stage.DATING, vol_a)  # skips first_meeting: reached with dating
    dating_at = pairing.stage_changed_at
    pipeline.move(pairing, Stage.CLOSED, vol_a, close_reason=PairingCloseReason.NO_CHEMISTRY)
    supervisor = make_user("supervisor", branch=a.branch)
    pipeline.move(pairing, Stage.DATING, supervisor, note="两人又联系上了")  # reopened: dating again
    pipeline.move(pairing, Stage.RELATIONSHIP, vol_a)
    db.session.flush()

    got = _stages(pairing.id)
    assert set(got) == {"proposed", "awaiting_consent", "introduced", "first_meeting", "dating", "relationship"}
    assert got["first_meeting"] == got["dating"] == dating_at  # the first move into dating, not the reopening
    assert got["relationship"] > dating_at
    assert _table() == _recomputed()

    # Another pair's history written directly and out of order: the earlier row moves the first moment back.
    c, d = make_member(owner=vol_a), make_member(owner=vol_b)
    early = now_utc() - timedelta(days=40)
    other = scene.make_pair(c, d, [(Stage.PROPOSED, early), (Stage.INTRODUCED, early + timedelta(days=20))])
    db.session.add(StageChange(pairing_id=other.id, from_stage=Stage.PROPOSED, to_stage=Stage.FIRST_MEETING,
                               at=early + timedelta(days=10)))
    db.session.flush()
    assert _stages(other.id)["introduced"] == early + timedelta(days=10)
    assert _table() == _recomputed()

    before = _table()
    erasure.erase_member(db.session.get(Member, a.id), supervisor, "会员本人要求删除")
    db.session.flush()
    assert _table() == _recomputed() == before  # the statistics keep the pair's stages


def test_rebuild_and_the_migration_backfill_compute_the_same_table(db, app, ctx):
    s = scene.build()
    assert s is not None
    kept = _table()
    assert kept and kept == _recomputed()

    db.session.execute(delete(PairingStageFirst))
    firsts.rebuild()
    assert _table() == kept

    spec = importlib.util.spec_from_file_location("firsts_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(delete(PairingStageFirst))
    db.session.execute(text(migration.BACKFILL))
    assert _table() == kept


def test_first_reached_counts_a_stage_and_every_later_one_only(db, app, ctx):
    with pytest.raises(ValueError):
        first_reached([Stage.INTRODUCED, Stage.MARRIED], scene.MARCH, None)
