"""`flask check-deploy`: refuse to call a configuration production-ready when it is not.

One line per problem on stderr and exit status 1; "ok" and exit status 0 on a good configuration.
Run it with the production environment (the same env vars and instance/config.py as gunicorn).
"""

import os
import re
import shlex
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

# Values that have been published somewhere (this repository, tutorials): never secret.
KNOWN_SECRETS = {"dev-only-not-secret", "test-secret", "secret", "changeme", "change-me", "dev", "development",
                 "secret-key", "your-secret-key", "supersecret", "queqiao", "queqiao-demo"}
MIN_SECRET_LENGTH = 32
NETWORK_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph",
                       "glusterfs", "fuse.glusterfs")
MOUNTS_FILE = "/proc/mounts"
GUNICORN_DEFAULT_WORKERS = 2  # gunicorn.conf.py: GUNICORN_WORKERS, default 2


def _secret_problem(secret) -> str | None:
    if not secret or not isinstance(secret, (str, bytes)):
        return "SECRET_KEY is not set: generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`."
    text = secret.decode(errors="replace") if isinstance(secret, bytes) else secret
    if text.strip().lower() in KNOWN_SECRETS:
        return "SECRET_KEY is a published default: generate a random one."
    if len(text) < MIN_SECRET_LENGTH or len(set(text)) < 10:
        return f"SECRET_KEY is weak: use at least {MIN_SECRET_LENGTH} random characters."
    return None


def _mount_for(path: Path, mounts_file: str) -> tuple[str, str] | None:
    """(mount point, file system type) of the mount holding ``path``."""
    try:
        lines = Path(mounts_file).read_text().splitlines()
    except OSError:
        return None
    best = None
    target = str(path)
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, fields[2])
    return best


def _sqlite_file(uri: str) -> Path | None:
    if not uri.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url
    database = make_url(uri).database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not path.is_absolute():
        path = Path(current_app.instance_path) / path
    return path.resolve()


def _workers() -> int:
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS"):
        value = os.environ.get(name, "").strip()
        if value.isascii() and value.isdigit():
            return int(value)
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))
    for i, arg in enumerate(args):
        match = re.fullmatch(r"(?:-w|--workers)(?:=?(\d+))?", arg)
        if match:
            value = match.group(1) or (args[i + 1] if i + 1 < len(args) else "")
            if value.isascii() and value.isdigit():
                return int(value)
    return GUNICORN_DEFAULT_WORKERS


def _demo_users_with_demo_password() -> list[str]:
    from sqlalchemy import select

    from crm.auth.models import User
    from crm.auth.passwords import check_password
    from crm.demo import DEMO_PASSWORD, DEMO_USERS
    from crm.extensions import db

    names = [row[0] for row in DEMO_USERS]
    users = db.session.scalars(select(User).where(User.username.in_(names), User.is_active_user.is_(True)))
    return sorted(u.username for u in users if check_password(u.password_hash, DEMO_PASSWORD))


def problems(app=None, mounts_file: str | None = None) -> list[str]:
    """Every reason this configuration is not fit for production, one sentence each."""
    app = app or current_app
    cfg = app.config
    found = []
    secret = _secret_problem(cfg.get("SECRET_KEY"))
    if secret:
        found.append(secret)
    if app.debug or cfg.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
        found.append("Debug mode is on: unset FLASK_DEBUG and DEBUG (the debugger runs code for anyone).")
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if not cfg.get(name):
            found.append(f"{name} is off: cookies would travel over plain HTTP (set {name}=1 behind HTTPS).")
    try:
        demo = _demo_users_with_demo_password()
    except Exception as error:  # noqa: BLE001 - no database yet is a problem to report, not a crash
        found.append(f"The database could not be checked for demo users ({type(error).__name__}).")
    else:
        if demo:
            found.append(f"Demo users still have the demo password: {', '.join(demo)} (disable them or change it).")
    sqlite = _sqlite_file(cfg.get("SQLALCHEMY_DATABASE_URI", ""))
    if sqlite is not None:
        mount = _mount_for(sqlite, mounts_file or MOUNTS_FILE)
        if mount and mount[1].lower().startswith(NETWORK_FILESYSTEMS):
            found.append(f"The SQLite database is on a network file system ({mount[1]} at {mount[0]}): "
                         "its locking is unreliable there; use a local disk or PostgreSQL.")
    backup = (cfg.get("BACKUP_DIR") or "").strip()
    if not backup:
        found.append("No backup target: set BACKUP_DIR to a writable directory (flask backup writes there).")
    else:
        path = Path(backup) if Path(backup).is_absolute() else Path(app.instance_path) / backup
        if not (path.is_dir() and os.access(path, os.W_OK | os.X_OK)):
            found.append(f"BACKUP_DIR {backup} is not a writable directory.")
    if cfg.get("RATELIMIT_STORAGE", "database") == "memory" and _workers() > 1:
        found.append(f"RATELIMIT_STORAGE is 'memory' with {_workers()} workers: each worker would count alone; "
                     "use 'database'.")
    return found


@click.command("check-deploy")
@with_appcontext
def check_deploy():
    """Refuse an unsafe production configuration (one line per problem, non-zero exit)."""
    found = problems()
    for line in found:
        click.echo(f"check-deploy: {line}", err=True)
    if found:
        raise SystemExit(1)
    click.echo("ok")
