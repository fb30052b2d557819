"""Snapshots of the whole database, to assert that a request wrote nothing."""

from sqlalchemy import func, select

from crm.extensions import db


def row_counts() -> dict[str, int]:
    """Rows per table, for every table the models define (including ones added later)."""
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def contents() -> dict[str, list]:
    """Every row of every table, ordered: equal before and after means nothing was written at all."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        snapshot[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
    return snapshot
