"""Load test: 30 volunteers reading and writing for LOAD_SECONDS (default 180) against gunicorn with 2
workers on loopback, on SQLite or on the PostgreSQL of TEST_DATABASE_URL. Zero 5xx, zero failed requests,
and zero lost writes: the database holds exactly the notes and stage changes the server confirmed.
Skipped unless RUN_LOAD=1 (`make load`, .ci/run)."""

import json
import os
import subprocess

import pytest
from sqlalchemy import create_engine, text

from tests.load.harness import BIN, ROOT, Gunicorn, prepare, scratch_database

pytestmark = [pytest.mark.load,
              pytest.mark.skipif(os.environ.get("RUN_LOAD") != "1", reason="load test: set RUN_LOAD=1 (make load)")]

USERS = int(os.environ.get("LOAD_USERS", "30"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "180"))


def _counts(url):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {"notes": conn.scalar(text("SELECT count(*) FROM notes WHERE body LIKE 'load-note %'")),
                    "moves": conn.scalar(text("SELECT count(*) FROM stage_changes")),
                    "integrity": (conn.scalar(text("PRAGMA integrity_check"))
                                  if conn.dialect.name == "sqlite" else "ok")}
    finally:
        engine.dispose()


def test_thirty_volunteers_for_minutes_lose_nothing(tmp_path):
    with scratch_database(tmp_path) as url:
        env = prepare(url)
        before = _counts(url)
        log_path = ROOT / "test-artifacts" / f"load-{url.split(':')[0]}.log"  # kept for a look after a failure
        log_path.parent.mkdir(exist_ok=True)
        server = Gunicorn(env, workers=2, log=log_path)
        result = tmp_path / "locust.json"
        try:
            run = subprocess.run(
                [str(BIN / "locust"), "-f", str(ROOT / "tests/load/locustfile.py"), "--headless",
                 "-u", str(USERS), "-r", "10", "-t", f"{SECONDS}s", "--stop-timeout", "10",
                 "--host", server.url, "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env={**os.environ, "LOAD_RESULT": str(result)},
                capture_output=True, text=True, timeout=SECONDS + 120)
        finally:
            server.stop()
        summary = run.stdout[-6000:] + run.stderr[-4000:]
        print(summary)
        counts = json.loads(result.read_text())
        after = _counts(url)
        log = log_path.read_text(errors="replace")
        assert counts.get("5xx", 0) == 0, summary + log[-5000:]
        assert counts.get("failures", 0) == 0, summary
        assert counts.get("login_failed", 0) == 0, summary
        assert "Traceback" not in log, log[-5000:]
        assert counts.get("notes", 0) > 0 and counts.get("moves", 0) > 0, counts  # it did write
        assert after["notes"] - before["notes"] == counts["notes"], (counts, before, after)
        assert after["moves"] - before["moves"] == counts["moves"], (counts, before, after)
        assert after["integrity"] == "ok"
