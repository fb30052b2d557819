"""Keeps ``stats_pairing_facts`` (crm.stats.models.PairingFact): each pair's contribution to the
dashboard's history figures, filed under each branch the pair belongs to and under the union (0).

Why: a branch's dashboard used to build the branch's pairing ids (~20,000 at union scale) in four
statements and probe the history for each (70–150 ms each). With the facts filed per scope, each
figure is one range of one covering index (scope, kind, at, ...).

What a pair contributes (each derived from data the application already keeps, never a new meaning):

- ``COHORT``: when the pair was proposed (``pairings.created_at``) and the furthest forward stage it
  ever reached (the highest rank among its ``pairing_stage_firsts`` rows; a pair reached a stage or a
  later one exactly when its rank is at least that stage's): the funnel of pairs proposed in a period.
- ``FIRST``: its ``pairing_stage_firsts`` rows for the trends' stages (proposed, introduced, married).
- ``DWELL``: each move with a next move: when it happened, its stage and the days until the next
  move (``stage_changes.next_at``, computed by the same SQL expression the median used to compute).
- ``CLOSE``: each close, with its reason (NULL: not given).

Kept by :func:`refresh` for the pairings a flush touched (a ``after_flush`` session event below: a new
or changed history row or pairing, a member changing branch), so no writer can forget it: the rows of
those pairings are deleted and recomputed from :func:`recomputed`, the same SELECT the full
:func:`rebuild` uses (bulk writers: crm.benchdata, the demo's back-dating; the migration's backfill).
Pairings are never deleted (erasure keeps them); if one were, its facts go with it (ON DELETE CASCADE).
tests/stats/test_facts.py compares the table with a full recomputation after random writes.
"""

from functools import cache

from sqlalchemy import (
    Float,
    String,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    literal,
    null,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from crm.extensions import db
from crm.members.models import Member
from crm.pairings.models import Pairing, PairingStageFirst, Stage, StageChange
from crm.stats.models import PairingFact
from crm.stats.sql import days_between

COHORT, FIRST, DWELL, CLOSE = 1, 2, 3, 4
UNION = 0  # the scope of union-wide figures (branch ids start at 1)
FORWARD = [Stage.PROPOSED, Stage.AWAITING_CONSENT, Stage.INTRODUCED, Stage.FIRST_MEETING, Stage.DATING,
           Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED]
TREND_STAGES = [Stage.PROPOSED, Stage.INTRODUCED, Stage.MARRIED]
COLUMNS = ["scope_id", "kind", "at", "stage", "value", "pairing_id"]
_CHUNK = 500


def scope_of(branch_id: int | None) -> int:
    return UNION if branch_id is None else branch_id


def _scopes(ids):
    """(pairing_id, scope_id): each pairing's branches (its two members') and the union, once each."""
    low, high = aliased(Member), aliased(Member)
    parts = [select(Pairing.id.label("pairing_id"), low.branch_id.label("scope_id"))
             .join(low, low.id == Pairing.member_low_id),
             select(Pairing.id, high.branch_id).join(high, high.id == Pairing.member_high_id),
             select(Pairing.id, literal(UNION))]
    if ids is not None:
        parts = [p.where(Pairing.id.in_(ids)) for p in parts]
    return union(*parts).subquery()


def recomputed(ids=None):
    """SELECT of the facts (COLUMNS) of the pairings ``ids`` (all when None; a list, or an expanding
    bindparam), from the source tables."""
    def only(column, stmt):
        return stmt if ids is None else stmt.where(column.in_(ids))

    rank = case({s.value: i for i, s in enumerate(FORWARD)}, value=PairingStageFirst.stage, else_=-1)
    furthest = only(PairingStageFirst.pairing_id,
                    select(PairingStageFirst.pairing_id, func.max(rank).label("rank"))
                    .group_by(PairingStageFirst.pairing_id)).subquery()
    stage_of_rank = case({i: literal(s.value) for i, s in enumerate(FORWARD)}, value=furthest.c.rank)
    s = _scopes(ids)
    cohort = (select(s.c.scope_id, literal(COHORT), Pairing.created_at, stage_of_rank,
                     cast(furthest.c.rank, Float), Pairing.id)
              .join(furthest, furthest.c.pairing_id == Pairing.id).join(s, s.c.pairing_id == Pairing.id))
    s = _scopes(ids)
    first = only(PairingStageFirst.pairing_id, (
        select(s.c.scope_id, literal(FIRST), PairingStageFirst.reached_at, cast(PairingStageFirst.stage, String),
               cast(null(), Float), PairingStageFirst.pairing_id)
        .join(s, s.c.pairing_id == PairingStageFirst.pairing_id)
        .where(PairingStageFirst.stage.in_(TREND_STAGES))))
    s = _scopes(ids)
    dwell = only(StageChange.pairing_id, (
        select(s.c.scope_id, literal(DWELL), StageChange.at, cast(StageChange.to_stage, String),
               days_between(StageChange.at, StageChange.next_at), StageChange.pairing_id)
        .join(s, s.c.pairing_id == StageChange.pairing_id).where(StageChange.next_at.is_not(None))))
    s = _scopes(ids)
    close = only(StageChange.pairing_id, (
        select(s.c.scope_id, literal(CLOSE), StageChange.at, cast(StageChange.close_reason, String),
               cast(null(), Float), StageChange.pairing_id)
        .join(s, s.c.pairing_id == StageChange.pairing_id).where(StageChange.to_stage == Stage.CLOSED)))
    return union_all(cohort, first, dwell, close)


@cache
def _refresh_statements():
    """The DELETE and INSERT ... SELECT of one chunk of pairings, built once: building ``recomputed`` (four
    SELECTs over aliased members) cost more Python than running it, on every flush that moved a pair."""
    table = PairingFact.__table__
    ids = bindparam("ids", expanding=True)
    return (delete(table).where(table.c.pairing_id.in_(ids)),
            table.insert().from_select(COLUMNS, recomputed(ids)))


def refresh(connection, pairing_ids) -> None:
    """Recompute the facts of ``pairing_ids`` (two statements per 500 pairings)."""
    delete_facts, insert_facts = _refresh_statements()
    ids = sorted(set(pairing_ids))
    for i in range(0, len(ids), _CHUNK):
        chunk = {"ids": ids[i:i + _CHUNK]}
        connection.execute(delete_facts, chunk)
        connection.execute(insert_facts, chunk)


def rebuild(connection=None) -> int:
    """Recompute the whole table (bulk writers); returns its number of rows.

    The indexes are dropped first and built after the insert (inside the same transaction, on both
    engines): at 100,000 members (3.2 million rows) inserting with the indexes in place cost ~107 s
    of CPU against ~25 s for the insert and one sort per index."""
    connection = connection if connection is not None else db.session.connection()
    # Planner statistics first: right after a bulk load SQLite has none, joins the closes to every pairing
    # through the to_stage index instead of the pairing_id one, and the rebuild goes quadratic (over ten
    # minutes at 100,000 members against seconds).
    for source in ("members", "pairings", "pairing_stage_firsts", "stage_changes"):
        connection.exec_driver_sql(f"ANALYZE {source}")
    table = PairingFact.__table__
    for index in table.indexes:
        index.drop(bind=connection, checkfirst=True)
    connection.execute(delete(table))
    connection.execute(table.insert().from_select(COLUMNS, recomputed()))
    for index in table.indexes:
        index.create(bind=connection)
    return connection.execute(select(func.count()).select_from(table)).scalar()


def _touched(session) -> tuple[set, set]:
    """(pairing ids, member ids whose branch changed) among the flush's objects."""
    from sqlalchemy import inspect

    pairings, members = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, StageChange):
            pairings.add(obj.pairing_id)
        elif isinstance(obj, Pairing):
            pairings.add(obj.id)
        elif isinstance(obj, Member) and obj.id is not None and inspect(obj).attrs.branch_id.history.has_changes():
            members.add(obj.id)
    pairings.discard(None)
    return pairings, members


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    if not session.new and not session.dirty and not session.deleted:
        return
    pairings, members = _touched(session)
    if not pairings and not members:
        return
    connection = session.connection()
    if members:
        t = Pairing.__table__
        ids = sorted(members)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            pairings.update(connection.execute(select(t.c.id).where(
                t.c.member_low_id.in_(chunk) | t.c.member_high_id.in_(chunk))).scalars())
    refresh(connection, pairings)
