"""pairing_consents.pairing_stage (crm.pairings.consent_stage) equals the pairing's stage after every kind of
write, in a random order: proposals, consent answers, forward and backward moves, closes and reopenings,
pairs written directly (scenes), erasure; the migration's backfill and rebuild compute the same; and the
dashboard's overdue consent requests per volunteer, counted from the copy, equal the count through the
pairings themselves."""

import importlib.util
import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import aliased

from crm.auth.models import User
from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Member
from crm.pairings import consent_stage, pipeline
from crm.pairings.models import ConsentAnswer, Pairing, PairingCloseReason, PairingConsent, Stage
from crm.pairings.services import overdue_consent_clause
from crm.stats import queries
from tests import random_writes
from tests.stats.test_facts import Office, _consent, _move, _propose, _scene_pair, erase_a_member_with_pairings

MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_consents_copy_the_pairing_stage.py"))


def _copies():
    return dict(db.session.execute(select(PairingConsent.id, PairingConsent.pairing_stage)).all())


def _stages():
    return dict(db.session.execute(select(PairingConsent.id, Pairing.stage).join(
        Pairing, Pairing.id == PairingConsent.pairing_id)).all())


def _overdue_through_the_pairings(branch_id):
    """The count as it was before the copy: every unanswered consent's pairing read for its stage."""
    m = aliased(Member)
    per_user = (select(func.count(PairingConsent.id)).join(Pairing, Pairing.id == PairingConsent.pairing_id)
                .join(m, m.id == PairingConsent.member_id)
                .where(m.owner_id == User.id, overdue_consent_clause(PairingConsent, Pairing)).scalar_subquery())
    return dict(db.session.execute(select(User.id, per_user).where(User.branch_id == branch_id)).all())


def _age_the_requests():
    """Every request asked long ago, so that the unanswered ones are overdue (or would be, if still awaited)."""
    db.session.execute(update(PairingConsent).values(asked_at=now_utc() - timedelta(days=60)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_keep_each_consents_copy_of_the_stage(db, app, ctx, seed):
    rng = random.Random(seed)
    office = Office()

    def pairings():
        return list(db.session.scalars(select(Pairing).order_by(Pairing.id)))

    steps = {"propose": lambda: _propose(rng, office), "consent": lambda: _consent(rng, pairings, office),
             "move": lambda: _move(rng, pairings, office), "scene": lambda: _scene_pair(rng, office)}
    weights = {"propose": 5, "consent": 3, "move": 8, "scene": 1}
    seen = set()

    def check(i, name):
        assert _copies() == _stages(), (i, name)
        seen.update(_copies().values())

    # once, late: a member with pairings is erased (the pairings and their consents stay)
    done = random_writes.run(rng, steps, weights, rounds=60, erase_at=45,
                             erase=lambda: erase_a_member_with_pairings(office), check=check)
    assert done["move"] >= 5 and done["consent"] >= 1 and done["erase"] == 1, done
    assert {Stage.AWAITING_CONSENT, Stage.CLOSED, Stage.INTRODUCED} <= seen, seen  # the copy followed the moves

    _age_the_requests()
    for branch in office.branches:
        counted = {row.user_id: row.unanswered_consents for row in queries.volunteers(branch.id)}
        through = _overdue_through_the_pairings(branch.id)
        assert counted == {user_id: through[user_id] for user_id in counted}, (seed, branch.id)


def test_a_closed_pairings_unanswered_consent_is_no_longer_an_overdue_request(db, app, ctx):
    office = Office()
    rng = random.Random(11)
    for _ in range(30):
        _propose(rng, office)
    db.session.flush()
    waiting = [p for p in db.session.scalars(select(Pairing)) if p.stage is Stage.AWAITING_CONSENT]
    assert len(waiting) >= 2
    _age_the_requests()
    volunteer_of = {m.id: m.owner_id for m in office.members}

    def overdue(volunteer_id):
        branch_id = db.session.get(User, volunteer_id).branch_id
        return {r.user_id: r.unanswered_consents for r in queries.volunteers(branch_id)}[volunteer_id]

    closing = waiting[0]
    owner = volunteer_of[closing.member_low_id]
    before = overdue(owner)
    assert before >= 1
    assert Stage.CLOSED in pipeline.allowed_moves(closing, office.admin)
    pipeline.move(closing, Stage.CLOSED, office.admin, note="不合适", close_reason=PairingCloseReason.LOST_CONTACT)
    db.session.flush()
    assert closing.consents and all(c.answer is ConsentAnswer.PENDING for c in closing.consents)
    assert all(c.pairing_stage is Stage.CLOSED for c in closing.consents)
    theirs = sum(volunteer_of[c.member_id] == owner for c in closing.consents)  # both sides may be theirs
    assert theirs >= 1 and overdue(owner) == before - theirs
    assert overdue(owner) == _overdue_through_the_pairings(db.session.get(User, owner).branch_id)[owner]


def test_rebuild_and_the_migration_backfill_compute_the_same_copy(db, app, ctx):
    office = Office()
    rng = random.Random(5)
    for _ in range(20):
        _propose(rng, office)
        _move(rng, lambda: list(db.session.scalars(select(Pairing).order_by(Pairing.id))), office)
    db.session.flush()
    kept = _copies()
    assert kept == _stages() and kept
    db.session.execute(update(PairingConsent).values(pairing_stage=None))
    consent_stage.rebuild()
    assert _copies() == kept

    spec = importlib.util.spec_from_file_location("consent_stage_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(update(PairingConsent).values(pairing_stage=None))
    db.session.execute(text(migration.BACKFILL))
    db.session.expire_all()
    assert _copies() == kept
