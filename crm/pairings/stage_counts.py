"""Keeps ``pairing_stage_counts`` (crm.pairings.models.PairingStageCount) in step with the pairings.

The branch-wide pipeline board reads its column totals from there (one small indexed read) instead of
counting some 20,000 pairings per request at union scale. Every write that changes a count goes through
here, inside the same transaction as the change itself:

- a new pairing (``created``: crm.pairings.services.propose_pairing and the event variant),
- a stage move (``moved``: crm.pairings.pipeline.move),
- a member changing branch (``member_moved``: crm.members.services reassignment).

Pairings are never deleted (erasure keeps them, without personal data). Bulk writers (crm.benchdata, the
migration) call ``rebuild``. tests/pairings/test_stage_counts.py compares the table with a live count.
"""

from collections import defaultdict

from sqlalchemy import delete, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.members.models import Member
from crm.pairings.models import Pairing, PairingStageCount, Stage


def _apply(deltas: dict) -> None:
    """Add ``{(branch_id, stage): [touching, owned]}`` to the counters: one upsert statement."""
    rows = [{"branch_id": b, "stage": s, "touching": t, "owned": o}
            for (b, s), (t, o) in deltas.items() if t or o]
    if not rows:
        return
    table = PairingStageCount.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.branch_id, table.c.stage],
                                      set_={"touching": table.c.touching + stmt.excluded.touching,
                                            "owned": table.c.owned + stmt.excluded.owned})
    db.session.execute(stmt, rows)


def _add(deltas, low_branch: int, high_branch: int, stage: Stage, sign: int) -> None:
    deltas[(low_branch, stage)][0] += sign
    deltas[(low_branch, stage)][1] += sign
    if high_branch != low_branch:
        deltas[(high_branch, stage)][0] += sign


def _branches(pairing: Pairing) -> tuple[int, int]:
    return pairing.member_a.branch_id, pairing.member_b.branch_id


def created(pairing: Pairing) -> None:
    deltas = defaultdict(lambda: [0, 0])
    _add(deltas, *_branches(pairing), pairing.stage, 1)
    _apply(deltas)


def moved(pairing: Pairing, old: Stage, new: Stage) -> None:
    if old is new:
        return
    deltas = defaultdict(lambda: [0, 0])
    low, high = _branches(pairing)
    _add(deltas, low, high, old, -1)
    _add(deltas, low, high, new, 1)
    _apply(deltas)


def member_moved(member_id: int, old_branch: int, new_branch: int) -> None:
    """``member_id`` moved from ``old_branch`` to ``new_branch``: its pairings count in the new branch now.
    Call before or after the member row changes; the other side's branch is read from the database."""
    if old_branch == new_branch:
        return
    low, high = aliased(Member), aliased(Member)
    rows = db.session.execute(
        select(Pairing.stage, Pairing.member_low_id, low.branch_id, high.branch_id)
        .join(low, low.id == Pairing.member_low_id).join(high, high.id == Pairing.member_high_id)
        .where(or_(Pairing.member_low_id == member_id, Pairing.member_high_id == member_id))).all()
    deltas = defaultdict(lambda: [0, 0])
    for stage, low_id, low_branch, high_branch in rows:
        other = high_branch if low_id == member_id else low_branch
        if low_id == member_id:
            _add(deltas, old_branch, other, stage, -1)
            _add(deltas, new_branch, other, stage, 1)
        else:
            _add(deltas, other, old_branch, stage, -1)
            _add(deltas, other, new_branch, stage, 1)
    _apply(deltas)


def recount_query():
    """(branch_id, stage, touching, owned) counted from the pairings themselves."""
    low, high = aliased(Member), aliased(Member)
    base = (select(Pairing.stage.label("stage"), low.branch_id.label("branch_id"), literal(1).label("owned"))
            .join(low, low.id == Pairing.member_low_id))
    other = (select(Pairing.stage.label("stage"), high.branch_id.label("branch_id"), literal(0).label("owned"))
             .join(low, low.id == Pairing.member_low_id).join(high, high.id == Pairing.member_high_id)
             .where(high.branch_id != low.branch_id))
    both = union_all(base, other).subquery()
    return (select(both.c.branch_id, both.c.stage, func.count().label("touching"),
                   func.sum(both.c.owned).label("owned"))
            .group_by(both.c.branch_id, both.c.stage))


def rebuild(conn=None) -> int:
    """Recount everything (bulk loads); returns the number of counter rows."""
    execute = (conn or db.session).execute
    execute(delete(PairingStageCount))
    table = PairingStageCount.__table__
    execute(table.insert().from_select(["branch_id", "stage", "touching", "owned"], recount_query()))
    # Counted, not rowcount: psycopg reports -1 for INSERT ... SELECT.
    return execute(select(func.count()).select_from(PairingStageCount)).scalar()


def for_branch(branch_id: int | None) -> dict[Stage, int]:
    """Column totals: pairings touching ``branch_id``, or union-wide when None."""
    if branch_id is None:
        stmt = select(PairingStageCount.stage, func.sum(PairingStageCount.owned)).group_by(PairingStageCount.stage)
    else:
        stmt = select(PairingStageCount.stage, PairingStageCount.touching).where(
            PairingStageCount.branch_id == branch_id)
    return {stage: int(n or 0) for stage, n in db.session.execute(stmt)}
