"""flask check-deploy: one line per problem and a non-zero exit; "ok" on a good configuration."""

import pytest

from crm import create_app, deploy
from crm.auth.passwords import hash_password
from crm.config import TestConfig
from crm.demo import DEMO_PASSWORD
from tests import factories

GOOD_SECRET = "k3J9x-Qv72mZp0Lr8TnB5wYc1HsD4gFa6EuO"


@pytest.fixture
def good(app, tmp_path, monkeypatch):
    """The session app's config made production-like; each test breaks one thing."""
    backups = tmp_path / "backups"
    backups.mkdir()
    for name, value in {"SECRET_KEY": GOOD_SECRET, "SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True,
                        "BACKUP_DIR": str(backups), "RATELIMIT_STORAGE": "database", "DEBUG": False}.items():
        monkeypatch.setitem(app.config, name, value)
    for name in ("FLASK_DEBUG", "WEB_CONCURRENCY", "GUNICORN_WORKERS", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n")
    monkeypatch.setattr(deploy, "MOUNTS_FILE", str(mounts))
    return app


def _run(app):
    return app.test_cli_runner().invoke(args=["check-deploy"])


def _lines(result):
    return [line for line in result.output.splitlines() if line.startswith("check-deploy:")]


def test_a_good_configuration_is_ok(good, db):
    result = _run(good)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok"


@pytest.mark.parametrize(("secret", "words"), [
    ("dev-only-not-secret", "published default"), ("test-secret", "published default"),
    ("short-but-random-7Hq", "weak"), ("a" * 40, "weak"), ("", "not set")])
def test_weak_or_default_secret_key(good, db, monkeypatch, secret, words):
    monkeypatch.setitem(good.config, "SECRET_KEY", secret)
    result = _run(good)
    assert result.exit_code == 1
    assert len(_lines(result)) == 1 and words in _lines(result)[0]
    assert secret not in result.output or not secret  # the secret itself is never printed


def test_debug_on(good, db, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = _run(good)
    assert result.exit_code == 1 and len(_lines(result)) == 1 and "Debug" in _lines(result)[0]


@pytest.mark.parametrize("name", ["SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"])
def test_insecure_cookies(good, db, monkeypatch, name):
    monkeypatch.setitem(good.config, name, False)
    result = _run(good)
    assert result.exit_code == 1 and len(_lines(result)) == 1 and name in _lines(result)[0]


def test_demo_users_with_the_demo_password(good, db):
    factories.make_user("admin", username="admin", password_hash=hash_password(DEMO_PASSWORD))
    factories.make_user("volunteer", username="volunteer")  # a demo name with its own password: fine
    db.session.commit()
    result = _run(good)
    assert result.exit_code == 1 and len(_lines(result)) == 1
    assert "Demo users" in _lines(result)[0] and "admin" in _lines(result)[0]
    assert "volunteer" not in _lines(result)[0]


@pytest.mark.parametrize("fstype", ["nfs4", "cifs", "smb3"])
def test_sqlite_on_a_network_file_system(good, db, monkeypatch, tmp_path, fstype):
    share = tmp_path / "share"
    (tmp_path / "mounts").write_text(f"/dev/sda1 / ext4 rw 0 0\nserver:/x {share} {fstype} rw 0 0\n")
    monkeypatch.setitem(good.config, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{share}/queqiao.db")
    assert len(deploy.problems(good)) == 1 and fstype in deploy.problems(good)[0]


def test_sqlite_on_a_local_disk_is_fine(good, db, monkeypatch, tmp_path):
    monkeypatch.setitem(good.config, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/queqiao.db")
    assert deploy.problems(good) == []


@pytest.mark.parametrize("setting", ["unset", "missing", "read-only"])
def test_no_backup_target(good, db, monkeypatch, tmp_path, setting):
    if setting == "unset":
        monkeypatch.setitem(good.config, "BACKUP_DIR", "")
    elif setting == "missing":
        monkeypatch.setitem(good.config, "BACKUP_DIR", str(tmp_path / "nowhere"))
    else:
        monkeypatch.setattr(deploy.os, "access", lambda path, mode: False)
    result = _run(good)
    assert result.exit_code == 1 and len(_lines(result)) == 1 and "BACKUP_DIR" in _lines(result)[0]


@pytest.mark.parametrize(("env", "refused"), [
    ({"WEB_CONCURRENCY": "4"}, True), ({"GUNICORN_WORKERS": "1"}, False),
    ({"GUNICORN_CMD_ARGS": "--bind 0:80 -w 3"}, True), ({"GUNICORN_CMD_ARGS": "--workers=1"}, False),
    ({"WEB_CONCURRENCY": "²", "GUNICORN_WORKERS": "1"}, False),  # "²" passes str.isdigit(), not int(): skipped
    ({}, True)])  # gunicorn.conf.py starts 2 workers by default
def test_memory_rate_limiter_with_several_workers(good, db, monkeypatch, env, refused):
    monkeypatch.setitem(good.config, "RATELIMIT_STORAGE", "memory")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = _run(good)
    assert (result.exit_code == 1) is refused
    assert len(_lines(result)) == (1 if refused else 0)


def test_every_problem_at_once_is_one_line_each(app, db, monkeypatch, tmp_path):
    class Bad(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        SECRET_KEY = "dev-only-not-secret"
        BACKUP_DIR = ""
        RATELIMIT_STORAGE = "memory"
        DEBUG = True

    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    monkeypatch.setattr(deploy, "MOUNTS_FILE", str(tmp_path / "none"))
    bad = create_app(Bad)
    db.session.rollback()
    with bad.app_context():
        result = _run(bad)
        from crm.extensions import db as bad_db
        bad_db.session.remove()
        bad_db.engine.dispose()
    assert result.exit_code == 1
    assert len(_lines(result)) == 6, result.output  # secret, debug, two cookies, backups, rate limiter
