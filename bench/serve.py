"""Throughput under gunicorn (2 sync workers) with wrk at concurrency 8, on loopback only.

    python -m bench.serve --database URL --member-id N [--seconds 10]

Serves the app (``crm:create_app()``, with gunicorn.conf.py when the repository has one) and the bare
50-row table page (bench/tableapp.py) on 127.0.0.1, signs in as the 'volunteer' login by minting its
session cookie with the app's own serializer, and runs wrk on: the bare table page, the caseload,
a case file. Returns requests/s and p50/p99 per page. Needs the ``wrk`` package (Makefile system-deps).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(app, user_id: str) -> str:
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)
        return serializer.dumps({"_user_id": user_id, "_fresh": True})


class Server:
    def __init__(self, target: str, env: dict, workers: int = 2):
        self.port = free_port()
        conf = ROOT / "gunicorn.conf.py"
        cmd = [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
               "--log-level", "warning"]
        if target.startswith("crm"):
            if conf.exists():
                cmd += ["-c", str(conf)]
        else:  # gunicorn reads ./gunicorn.conf.py by default; its hooks belong to the CRM app
            cmd += ["-c", str(Path(__file__).with_name("gunicorn_bare.conf.py"))]
        self.proc = subprocess.Popen(cmd + [target], cwd=ROOT, env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, path: str, cookie: str = "", timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                req = urllib.request.Request(self.url(path), headers={"Cookie": f"session={cookie}"} if cookie else {})
                with urllib.request.urlopen(req, timeout=30) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer {path} in {timeout} s")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stderr.close()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, cookie: str = "", seconds: int = 10, connections: int = 8) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: session={cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


#: The cheapest signed-in request: the home page only redirects a volunteer to the caseload, so it costs the
#: session check, the user, the access policy and the security headers, and renders nothing. No signed-in
#: page can serve more requests per second than this.
SIGNED_IN_FLOOR = "Signed-in redirect, no page (/)"


def measure(app, database_url: str, secret: str, user_id: str, member_id: int, seconds: int = 10,
            warm_seconds: int = 2) -> dict:
    if shutil.which("wrk") is None:
        return {"error": "wrk is not installed (make system-deps installs it)"}
    env = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": secret, "PYTHONDONTWRITEBYTECODE": "1"}
    cookie = session_cookie(app, user_id)
    crm, table = Server("crm:create_app()", env), Server("bench.tableapp:app", env)
    results = {}
    try:
        table.wait("/table")
        crm.wait("/members/", cookie, timeout=300)  # gunicorn.conf.py builds the suggestion index before forking
        crm.wait(f"/members/{member_id}", cookie)
        for label, server, path, ck in [("Bare 50-row table (no DB)", table, "/table", ""),
                                        (SIGNED_IN_FLOOR, crm, "/", cookie),
                                        ("Caseload", crm, "/members/", cookie),
                                        ("Case file", crm, f"/members/{member_id}", cookie),
                                        ("Bare 50-row table, again", table, "/table", "")]:
            wrk(server.url(path), ck, warm_seconds)  # warm every worker
            results[label] = wrk(server.url(path), ck, seconds)
    finally:
        crm.stop()
        table.stop()
    return results
