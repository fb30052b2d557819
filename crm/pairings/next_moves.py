"""Keeps ``stage_changes.next_at``: when the pair's next move happened (NULL on its latest move).

"How long did the pair stay at the stage this move put it in" is ``next_at - at``: the statistics'
median days per stage (crm.stats.queries.median_days_in_stage) read these stored moments with one
range of a covering index instead of a LEAD() window over the whole history of every pair moved in
the period. "Next" is in history order (``stage_changes.id``), as the window ordered it.

Every StageChange the ORM inserts passes through :func:`record` (the ``after_insert`` event on
StageChange in crm/pairings/models.py, beside crm.pairings.firsts), so pipeline.move, proposals,
event mutual choices and test scenes all keep it. A new row is always the pair's latest (ids only
grow), so a move sets ``next_at`` on the pair's previous row and nothing else. Bulk writers that
bypass the ORM or rewrite timestamps (bench data, demo back-dating) call :func:`rebuild`;
:func:`recomputed` is the definition (LEAD over the history) that the tests compare with.
"""

from datetime import datetime

from sqlalchemy import func, select, text, update

from crm.extensions import db
from crm.pairings.models import StageChange

#: The set-based recomputation, one correlated seek of the pairing_id index per row, spelled the
#: same on SQLite and PostgreSQL (the migration's backfill runs the same statement).
REBUILD_SQL = """
UPDATE stage_changes SET next_at = (
    SELECT n.at FROM stage_changes n
    WHERE n.pairing_id = stage_changes.pairing_id AND n.id > stage_changes.id
    ORDER BY n.id LIMIT 1)
"""


def record(connection, pairing_id: int, change_id: int, at: datetime) -> None:
    """The move ``change_id`` of ``pairing_id`` at ``at`` was just inserted (inside the flush): it is
    the pair's latest, so it ends the pair's previous move. One UPDATE by primary key."""
    t = StageChange.__table__
    previous = (select(func.max(t.c.id)).where(t.c.pairing_id == pairing_id, t.c.id < change_id)
                .scalar_subquery())
    connection.execute(update(t).where(t.c.id == previous).values(next_at=at))


def recomputed():
    """SELECT (id, next_at) for every history row, from the history alone (the definition)."""
    nxt = (func.lead(StageChange.at, type_=StageChange.__table__.c.at.type)
           .over(partition_by=StageChange.pairing_id, order_by=StageChange.id))
    return select(StageChange.id, nxt.label("next_at"))


def rebuild(connection=None) -> None:
    """Recompute ``next_at`` for the whole history (bulk writers of stage_changes call this).

    Planner statistics first: right after a bulk load PostgreSQL has none, guesses that many moves share
    a pair, and walks the primary key from each row on, filtering on pairing_id; for a pair's latest move
    that reads the rest of the table, and the rebuild of 650,000 moves ran for over ten minutes."""
    connection = connection if connection is not None else db.session.connection()
    connection.exec_driver_sql("ANALYZE stage_changes")
    connection.execute(text(REBUILD_SQL))
