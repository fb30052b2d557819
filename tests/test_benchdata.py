"""The benchmark dataset (crm/benchdata.py) at a small size: complete, consistent, and usable by the pages.

Runs on whichever database the suite runs on (SQLite, or PostgreSQL under scripts/with-pg.sh), so both
bulk paths (sqlite3 executemany and psycopg COPY) are covered.
"""

from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select, text

from crm.benchdata import generate
from crm.members.models import Member, MemberStatus, Note
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, Stage, StageChange
from crm.pairings.pipeline import TRANSITIONS

MEMBERS = 400


@pytest.fixture
def bench_db(db, app):
    counts = generate(db.engine, MEMBERS, seed=7, secret=app.config["SECRET_KEY"])
    yield counts
    from crm.matching import service
    service.reset()


def test_sizes_scale_with_members(bench_db):
    assert bench_db["members"] == MEMBERS
    assert bench_db["notes"] == 5 * MEMBERS
    assert bench_db["pairings"] == 2 * MEMBERS
    assert bench_db["pairing_consents"] == 2 * bench_db["pairings"]
    assert bench_db["stage_changes"] > bench_db["pairings"]
    assert bench_db["followups"] == MEMBERS // 2
    assert bench_db["counselling_sessions"] == MEMBERS // 2
    assert bench_db["users"] >= 12
    assert bench_db["events"] == MEMBERS // 200


def test_event_registrations_respect_capacity(bench_db, db):
    from crm.events.models import Event, EventRegistration, RegistrationStatus

    for event in db.session.scalars(select(Event)):
        regs = list(db.session.scalars(select(EventRegistration).where(EventRegistration.event_id == event.id)))
        holding = [r for r in regs if r.status is not RegistrationStatus.WAITLISTED]
        assert len(holding) <= event.capacity
        assert all(r.waitlist_position for r in regs if r.status is RegistrationStatus.WAITLISTED)
        assert all(r.checked_in_at for r in regs if r.status is RegistrationStatus.ATTENDED)


def test_every_foreign_key_points_at_a_row(bench_db, db):
    broken = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for fk in table.foreign_keys:
                col, target = fk.parent, fk.column
                n = conn.scalar(text(
                    f"SELECT count(*) FROM {table.name} t WHERE t.{col.name} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {target.table.name} r WHERE r.{target.name} = t.{col.name})"))
                if n:
                    broken.append(f"{table.name}.{col.name} -> {target.table.name}: {n}")
    assert broken == []


def test_pipeline_invariants(bench_db, db):
    history = defaultdict(list)
    for change in db.session.scalars(select(StageChange).order_by(StageChange.id)):
        history[change.pairing_id].append(change)
    consents = defaultdict(dict)
    for c in db.session.scalars(select(PairingConsent)):
        consents[c.pairing_id][c.member_id] = c
    taken = Counter()
    stages = Counter()
    for p in db.session.scalars(select(Pairing)):
        steps = history[p.id]
        stages[p.stage] += 1
        assert steps[0].from_stage is None and steps[0].to_stage in (Stage.PROPOSED, Stage.AWAITING_CONSENT)
        for before, after in zip(steps, steps[1:], strict=False):
            assert after.from_stage is before.to_stage, p.id
            assert after.to_stage in TRANSITIONS[before.to_stage], (p.id, before.to_stage, after.to_stage)
            assert after.at >= before.at
        assert p.stage is steps[-1].to_stage and p.stage_changed_at == steps[-1].at
        assert (p.close_reason is not None) == (p.stage is Stage.CLOSED)
        assert set(consents[p.id]) == {p.member_low_id, p.member_high_id}
        reached_introduced = any(s.to_stage is Stage.INTRODUCED for s in steps)
        if p.stage.is_introduced_or_later or reached_introduced:
            assert all(c.answer is ConsentAnswer.YES for c in consents[p.id].values()), p.id
        if p.stage in (Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED):
            taken[p.member_low_id] += 1
            taken[p.member_high_id] += 1
    assert all(n == 1 for n in taken.values())
    # Realistic spread: mostly closed or early, some married.
    assert stages[Stage.CLOSED] > sum(stages.values()) / 3
    assert stages[Stage.MARRIED] > 0 and stages[Stage.AWAITING_CONSENT] > 0
    members = {m.id: m for m in db.session.scalars(select(Member))}
    married = {m for p in db.session.scalars(select(Pairing).where(Pairing.stage == Stage.MARRIED))
               for m in (p.member_low_id, p.member_high_id)}
    for mid, m in members.items():
        if mid in married:
            assert m.status is MemberStatus.CLOSED and m.close_reason.value == "married"
        elif mid in taken:
            assert m.status is MemberStatus.IN_RELATIONSHIP
        else:
            assert m.status is not MemberStatus.IN_RELATIONSHIP


def test_members_have_searchable_keys_and_last_contact(bench_db, db):
    from crm.members.pinyin import name_keys

    for m in db.session.scalars(select(Member).limit(50)):
        assert (m.name_pinyin, m.name_initials) == name_keys(m.name)
        last = db.session.scalar(select(func.max(Note.created_at)).where(Note.member_id == m.id))
        assert m.last_contact_at == last


def test_generated_logins_can_open_their_pages(bench_db, client, db):
    from bench.pages import login_id
    from crm.auth.models import User

    user = db.session.scalar(select(User).where(User.username == "volunteer"))
    cookie_id = login_id(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id
    response = client.get("/members/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("/members/") > 10


def test_next_moves_are_generated_equal_to_the_history(bench_db, db):
    """stage_changes.next_at (the statistics' days per stage) is written by the generator, equal to LEAD(at)."""
    from crm.pairings.next_moves import recomputed

    stored = dict(db.session.execute(select(StageChange.id, StageChange.next_at)).all())
    assert stored == dict(db.session.execute(recomputed()).all())
    assert sum(v is not None for v in stored.values()) == bench_db["stage_changes"] - bench_db["pairings"]


def test_consents_carry_their_pairings_stage(bench_db, db):
    """pairing_consents.pairing_stage (the dashboard's overdue requests) is written by the generator too."""
    wrong = db.session.scalar(select(func.count()).select_from(PairingConsent).join(
        Pairing, Pairing.id == PairingConsent.pairing_id).where(
        PairingConsent.pairing_stage.is_(None) | (PairingConsent.pairing_stage != Pairing.stage)))
    assert wrong == 0 and bench_db["pairing_consents"] > 0
