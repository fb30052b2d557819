"""Migrations on a populated database, both engines: seed the demo data, walk down one revision at a time to
base and back up to head; at every step each table that exists before and after keeps its rows (a SQLite
batch rebuild with foreign keys on would cascade-delete the children of a rebuilt table, and
migrations/env.py checks foreign keys after). At head the schema takes the demo data again."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from crm.extensions import db
from tests.integrity.migration_app import migration_app


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in names}


def _current() -> str:
    with db.engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return "base"
        return conn.scalar(text("SELECT version_num FROM alembic_version")) or "base"


def _same_where_kept(before, after, step):
    changed = {t: (before[t], after[t]) for t in set(before) & set(after) if before[t] != after[t]}
    assert not changed, f"{step}: rows lost or added in {changed}"


def _seed(app, members):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--members", str(members)])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_down_to_base_and_up_to_head_on_populated_data(tmp_path):
    with migration_app(tmp_path) as app:
        upgrade()
        _seed(app, 80)
        head, counts = _current(), _counts()
        assert counts["members"] == 80 and counts["notes"] > 0
        steps = 0
        while _current() != "base":
            step = f"downgrade from {_current()}"
            db.session.remove()
            downgrade(revision="-1")
            after = _counts()
            _same_where_kept(counts, after, step)
            counts, steps = after, steps + 1
        assert counts == {} and steps > 3
        while _current() != head:
            upgrade(revision="+1")
            after = _counts()
            _same_where_kept(counts, after, f"upgrade to {_current()}")
            counts = after
        _seed(app, 20)
        assert _counts()["members"] == 20
