"""Restore drill: back up, change data, restore: the data equals the backup. Corrupt files are refused."""

from pathlib import Path

import pytest

from crm.backup import PG_SUFFIX, SQLITE_SUFFIX
from crm.members.models import Member
from tests import factories


class dbstate:  # noqa: N801 - tests.dbstate.contents, over the tables the migrations created
    @staticmethod
    def contents():
        from sqlalchemy import inspect, select

        from crm.extensions import db
        db.session.expire_all()
        existing = set(inspect(db.session.connection()).get_table_names())
        snapshot = {}
        for table in db.metadata.sorted_tables:
            if table.name in existing:
                order = list(table.primary_key.columns) or list(table.columns)
                snapshot[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
        db.session.commit()
        return snapshot


def _populate(db):
    volunteer = factories.make_user("volunteer")
    members = [factories.make_member(owner=volunteer) for _ in range(5)]
    db.session.flush()
    for member in members[:3]:
        factories.make_note(member, volunteer)
    db.session.commit()
    return [m.id for m in members]


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_backup_change_restore_gives_back_the_backup(app, db, tmp_path):
    member_ids = _populate(db)
    saved = dbstate.contents()
    result = _run(app, "backup", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.parent == tmp_path and path.name.startswith("queqiao-")
    assert path.suffix == (PG_SUFFIX if db.engine.dialect.name == "postgresql" else SQLITE_SUFFIX)
    assert not list(tmp_path.glob("*.partial"))

    # Change the data: one member edited, one removed with its notes, one added.
    db.session.get(Member, member_ids[0]).name = "改过的名字"
    factories.make_member(owner=None)
    doomed = db.session.get(Member, member_ids[4])
    db.session.delete(doomed)
    db.session.commit()
    assert dbstate.contents() != saved

    refused = _run(app, "restore", str(path))  # without --yes: nothing happens
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert dbstate.contents() != saved

    result = _run(app, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert dbstate.contents() == saved


def test_a_corrupt_or_foreign_file_is_refused_and_nothing_changes(app, db, tmp_path):
    _populate(db)
    before = dbstate.contents()
    garbage = tmp_path / "queqiao-broken.bin"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    result = _run(app, "restore", str(garbage), "--yes")
    assert result.exit_code != 0 and "Refused" in result.output
    missing = _run(app, "restore", str(tmp_path / "nope.dump"), "--yes")
    assert missing.exit_code != 0
    assert dbstate.contents() == before


def test_sqlite_backup_with_a_broken_foreign_key_is_refused(app, db, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA foreign_key_check is SQLite's")
    import sqlite3
    _populate(db)
    result = _run(app, "backup", "--dir", str(tmp_path))
    path = Path(result.output.strip())
    conn = sqlite3.connect(path)  # foreign keys are off by default on a plain connection
    conn.execute("UPDATE members SET owner_id = 999999")
    conn.commit()
    conn.close()
    before = dbstate.contents()
    result = _run(app, "restore", str(path), "--yes")
    assert result.exit_code != 0 and "foreign key" in result.output
    assert dbstate.contents() == before


def test_backup_needs_a_target(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_DIR", "")
    result = _run(app, "backup")
    assert result.exit_code != 0 and "BACKUP_DIR" in result.output


def test_prune_keeps_the_newest(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_KEEP", 2)
    paths = [Path(_run(app, "backup", "--dir", str(tmp_path)).output.strip().splitlines()[0]) for _ in range(3)]
    result = _run(app, "backup", "--dir", str(tmp_path), "--prune")
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and paths[0].name not in kept and paths[1].name not in kept, result.output
