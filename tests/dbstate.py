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


def as_a_new_request():
    """Forget what earlier requests left behind, as a production request would start.

    The test's app context is shared with the client's requests, so without this the next request
    reuses the signed-in user cached in ``g`` and the objects in the session's identity map.
    Objects held by the test are detached afterwards: keep ids, not instances.
    """
    from flask import g
    g.pop("_login_user", None)
    db.session.remove()
