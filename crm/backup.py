"""`flask backup` and `flask restore FILE`: whole-database copies, checked before they are trusted.

SQLite: the online backup API (sqlite3.Connection.backup) copies a consistent snapshot while the app keeps
serving; the copy must pass PRAGMA integrity_check and foreign_key_check. PostgreSQL: pg_dump --format=custom,
checked with pg_restore --list. A restore checks the file the same way first, refuses without --yes, and
replaces the whole database in one step (SQLite backup API into the live file; pg_restore --clean in a single
transaction), then checks the result.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

from crm.clock import now_utc

SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".dump"


class BackupError(Exception):
    """A backup or restore that must not be trusted; the message says why."""


def _url() -> URL:
    from crm.extensions import db
    return make_url(db.engine.url)


def backup_dir(explicit: str | None = None) -> Path:
    configured = explicit or current_app.config.get("BACKUP_DIR") or ""
    if not configured:
        raise BackupError("No backup target: set BACKUP_DIR (or pass --dir).")
    path = Path(configured)
    if not path.is_absolute():
        path = Path(current_app.instance_path) / path
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------- SQLite ----------

def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return url.database


def sqlite_problems(path: str | Path) -> list[str]:
    """What is wrong with the SQLite file at ``path`` (empty: sound). Opens it read-only."""
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems = [] if integrity == ["ok"] else [f"integrity: {line}" for line in integrity[:20]]
        problems += [f"foreign key: {table} row {rowid} -> {parent}"
                     for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()[:20]]
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone():
            problems.append("not a Queqiao database (no alembic_version table)")
        return problems
    except sqlite3.DatabaseError as exc:
        return [f"not a readable SQLite database: {exc}"]
    finally:
        conn.close()


def _sqlite_copy(source: str, target: str, self_contained: bool = False) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        dst.execute("PRAGMA busy_timeout=30000")
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # one consistent snapshot, however many pages; other connections keep working
        if self_contained:
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal/-shm beside it
    finally:
        dst.close()
        src.close()


# ---------- PostgreSQL ----------

def _pg_args(url: URL) -> tuple[list[str], dict]:
    """libpq connection options for pg_dump/pg_restore; the password goes through the environment, not argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client).")
    return path


def pg_problems(path: str | Path) -> list[str]:
    result = subprocess.run([_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        return [f"pg_restore --list: {result.stderr.strip()[:500]}"]
    if "alembic_version" not in result.stdout:
        return ["not a Queqiao database (no alembic_version table)"]
    return []


# ---------- both ----------

def make_backup(directory: str | None = None) -> Path:
    """Writes a timestamped, checked backup of the app's database into BACKUP_DIR; returns its path."""
    url = _url()
    target_dir = backup_dir(directory)
    stamp = now_utc().strftime("%Y%m%dT%H%M%S%fZ")
    if url.get_backend_name() == "sqlite":
        target = target_dir / f"queqiao-{stamp}{SQLITE_SUFFIX}"
        partial = target.with_name(target.name + ".partial")
        _sqlite_copy(_sqlite_path(url), str(partial), self_contained=True)
        check = sqlite_problems
    elif url.get_backend_name() == "postgresql":
        target = target_dir / f"queqiao-{stamp}{PG_SUFFIX}"
        partial = target.with_name(target.name + ".partial")
        args, env = _pg_args(url)
        result = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args],
                                capture_output=True, text=True, env=env)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        check = pg_problems
    else:
        raise BackupError(f"Unsupported database: {url.get_backend_name()}")
    problems = check(partial)
    if problems:
        partial.unlink(missing_ok=True)
        raise BackupError("The backup failed its check: " + "; ".join(problems))
    partial.chmod(0o600)  # personal data: readable by the service account only
    partial.replace(target)  # a file named queqiao-*.sqlite3/.dump is always complete
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    if keep <= 0:
        return []
    backups = sorted(p for p in directory.glob("queqiao-*") if p.suffix in (SQLITE_SUFFIX, PG_SUFFIX))
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old


def restore_backup(path: str | Path) -> None:
    """Replaces the app's whole database by the backup at ``path``, after checking it. Check after, too."""
    from crm.extensions import db
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such file: {path}")
    url = _url()
    backend = url.get_backend_name()
    check = sqlite_problems if backend == "sqlite" else pg_problems if backend == "postgresql" else None
    if check is None:
        raise BackupError(f"Unsupported database: {backend}")
    problems = check(path)
    if problems:
        raise BackupError("Refused, the file failed its check: " + "; ".join(problems))
    db.session.remove()
    db.engine.dispose()  # no pooled connection holds a lock or a stale schema
    if backend == "sqlite":
        live = _sqlite_path(url)
        _sqlite_copy(str(path), live)  # the backup API writes all pages under one lock: all or nothing
        problems = sqlite_problems(live)
    else:
        args, env = _pg_args(url)
        result = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                 "--exit-on-error", *args, str(path)], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed, nothing changed: {result.stderr.strip()[:500]}")
        problems = []
    if problems:
        raise BackupError("The restored database failed its check: " + "; ".join(problems))


@click.command("backup")
@click.option("--dir", "directory", default=None, help="Directory to write to (default: BACKUP_DIR).")
@click.option("--prune", "do_prune", is_flag=True, help="Then delete all but the newest BACKUP_KEEP backups.")
@with_appcontext
def backup_command(directory, do_prune):
    """Back up the whole database into BACKUP_DIR with a timestamped name (checked before it is kept)."""
    try:
        path = make_backup(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(path))
    if do_prune:
        for old in prune(path.parent, current_app.config["BACKUP_KEEP"]):
            click.echo(f"pruned {old}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Really replace the whole database with the backup.")
@with_appcontext
def restore_command(file, yes):
    """Replace the whole database with a backup FILE, after an integrity check. Needs --yes."""
    url = _url()
    problems = (sqlite_problems if url.get_backend_name() == "sqlite" else pg_problems)(file) \
        if Path(file).is_file() else [f"No such file: {file}"]
    if problems:
        raise click.ClickException("Refused, the file failed its check: " + "; ".join(problems))
    if not yes:
        raise click.ClickException(f"{file} passed its check. This REPLACES the whole database "
                                   f"({url.render_as_string(hide_password=True)}): run again with --yes.")
    try:
        restore_backup(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {file}; integrity checked.")
