"""Keeps ``pairing_stage_firsts`` (crm.pairings.models.PairingStageFirst) in step with the history.

Every StageChange the ORM inserts (pipeline.move, the proposal services, event mutual choices, test
scenes) passes through :func:`record`, called by the ``after_insert`` event on StageChange in
crm/pairings/models.py, so no path that writes history can forget it. Bulk writers that bypass the
ORM or rewrite history timestamps (benchmark data, demo back-dating) call :func:`rebuild`.
:func:`recomputed` is the definition as one SELECT over ``stage_changes``: the rebuild, the bench
generator and the tests' comparison use it (the migration's backfill spells out the same SQL).
"""

from datetime import datetime

from sqlalchemy import case, delete, func, insert, literal, select, union_all, update

from crm.extensions import db
from crm.pairings.models import PairingStageFirst, Stage, StageChange

#: The forward order; ``closed`` is not a stage a pair "reaches".
FORWARD = [Stage.PROPOSED, Stage.AWAITING_CONSENT, Stage.INTRODUCED, Stage.FIRST_MEETING, Stage.DATING,
           Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED]


def up_to(stage: Stage) -> list[Stage]:
    """The forward stages a move into ``stage`` reaches: it and every earlier one ([] for closed)."""
    return FORWARD[:FORWARD.index(stage) + 1] if stage in FORWARD else []


def record(connection, pairing_id: int, to: Stage, at: datetime) -> None:
    """A move of ``pairing_id`` into ``to`` at ``at`` (on ``connection``, inside the flush): add the
    stages it reached for the first time; a move dated before a known first moment (history written
    out of order) moves that moment back. One statement for a close, two or three otherwise."""
    reached = up_to(to)
    if not reached:
        return
    t = PairingStageFirst.__table__
    known = dict(connection.execute(select(t.c.stage, t.c.reached_at).where(t.c.pairing_id == pairing_id)).all())
    known = {getattr(k, "value", k): v for k, v in known.items()}
    new = [{"pairing_id": pairing_id, "stage": s, "reached_at": at} for s in reached if s.value not in known]
    if new:
        connection.execute(insert(t), new)
    later = [s for s in reached if s.value in known and known[s.value] > at]
    if later:
        connection.execute(update(t).where(t.c.pairing_id == pairing_id, t.c.stage.in_(later)).values(reached_at=at))


def recomputed():
    """SELECT (pairing_id, stage, reached_at) of the whole table, from ``stage_changes`` alone."""
    rank = case({s.value: i for i, s in enumerate(FORWARD)}, value=StageChange.to_stage, else_=-1)
    per_move = (select(StageChange.pairing_id.label("pairing_id"), rank.label("rank"),
                       func.min(StageChange.at).label("at"))
                .where(StageChange.to_stage != Stage.CLOSED)
                .group_by(StageChange.pairing_id, StageChange.to_stage).subquery())
    stages = union_all(*[select(literal(s.value).label("stage"), literal(i).label("rank"))
                         for i, s in enumerate(FORWARD)]).subquery()
    return (select(per_move.c.pairing_id, stages.c.stage, func.min(per_move.c.at).label("reached_at"))
            .join(stages, per_move.c.rank >= stages.c.rank)
            .group_by(per_move.c.pairing_id, stages.c.stage))


def rebuild() -> None:
    """Recompute the whole table from the history (bulk writers of stage_changes call this)."""
    db.session.execute(delete(PairingStageFirst))
    db.session.execute(insert(PairingStageFirst).from_select(["pairing_id", "stage", "reached_at"], recomputed()))
