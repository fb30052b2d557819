"""Server time of the key pages on the union-scale dataset: ``python -m bench.pages`` (part of ``make bench``).

    python -m bench.pages [--members 100000] [--runs 40] [--database URL] [--out bench/results-sqlite.json]

The dataset (crm/benchdata.py) is generated once into ``bench/.data/bench-<members>.sqlite`` (git-ignored)
and reused; with ``--database`` (or DATABASE_URL, as scripts/with-pg.sh sets it) an empty PostgreSQL
database is filled first. Each page is requested through the Flask test client, signed in as the
user it is for: median and p95 server time over ``--runs`` requests, the SQL statements per request
(``before_cursor_execute``), and the floor: the same statements replayed on a raw DBAPI connection
(writes rolled back), so "x floor" says how much the ORM, forms and templates add.
"""

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import event, func, select, text

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
BENCH_SECRET = "bench-secret-not-for-production"
BATCH_PAIRINGS = 50  # the batch print: 2 cards per pairing, so 100 cards


@dataclass
class Result:
    page: str
    url: str
    runs: int
    median_ms: float
    p95_ms: float
    statements: int
    statements_constant: bool
    floor_ms: float | None
    status: int
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.median_ms / self.floor_ms if self.floor_ms else None


def schema_head() -> str:
    """The migrations' head revision: a dataset file is made for one schema and regenerated for another."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE.parent / "migrations"))
    return "-".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def sqlite_url(members: int) -> str:
    """bench/.data/bench-<members>-<schema head>.sqlite; files of older schemas are deleted, never migrated
    (a batch migration copying a 100k-member table takes minutes)."""
    name = f"bench-{members}-{schema_head()}.sqlite"
    for old in DATA.glob(f"bench-{members}-*.sqlite*"):
        if not old.name.startswith(name):
            old.unlink()
    return f"sqlite:///{DATA / name}"


def make_app(url: str):
    from crm import create_app
    from crm.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = BENCH_SECRET
        WTF_CSRF_ENABLED = False  # the batch POST comes from the bench, not a browser form
        BABEL_DEFAULT_LOCALE = "zh_Hans_CN"

    return create_app(BenchConfig)


def ensure_data(app, members: int, echo=print) -> None:
    """Generate the dataset unless the database already holds it."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from crm.auth.models import User
    from crm.benchdata import generate
    from crm.extensions import db

    with app.app_context():
        if inspect(db.engine).has_table("users") and db.session.scalar(select(func.count()).select_from(User)):
            db.session.remove()
            return  # never migrated in place: a batch migration copies (and may cascade) 100k-row tables
        db.session.remove()
        upgrade()
        echo(f"Generating the benchmark dataset ({members:,} members)...")
        counts = generate(db.engine, members, secret=app.config["SECRET_KEY"], echo=echo)
        echo(", ".join(f"{t} {n:,}" for t, n in counts.items()))


def pick_subjects(app) -> dict:
    """Who and what each page is measured with: the 'volunteer' and 'supervisor' logins and their records."""
    from crm.auth.models import User
    from crm.extensions import db
    from crm.members.models import Member, MemberStatus, Note
    from crm.pairings.models import Pairing, Stage

    with app.app_context():
        users = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_(["volunteer", "supervisor", "admin"])))}
        vol, sup = users["volunteer"], users["supervisor"]
        notes = (select(func.count()).select_from(Note).where(Note.member_id == Member.id)
                 .correlate(Member).scalar_subquery())
        member = db.session.execute(select(Member.id, Member.name, Member.name_pinyin).where(
            Member.owner_id == vol.id, Member.status == MemberStatus.ACTIVE).order_by(notes.desc()).limit(1)).one()
        low, high = Pairing.member_low_id, Pairing.member_high_id
        intro = [Stage.INTRODUCED, Stage.FIRST_MEETING, Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED]
        mine = select(Member.id).where(Member.owner_id == vol.id)
        card = db.session.scalar(select(Pairing.id).where(Pairing.stage.in_(intro),
                                                          low.in_(mine) | high.in_(mine)).limit(1))
        branch_members = select(Member.id).where(Member.branch_id == sup.branch_id)
        batch = list(db.session.scalars(select(Pairing.id).where(
            Pairing.stage.in_(intro), low.in_(branch_members)).order_by(Pairing.id).limit(BATCH_PAIRINGS)))
        ids = {name: login_id(users[name]) for name in ("volunteer", "supervisor", "admin")}
        db.session.commit()
        return {**ids,
                "branch_id": sup.branch_id, "member_id": member.id, "name": member.name,
                "pinyin": member.name_pinyin, "card_pairing": card, "batch": batch}


def login_id(user) -> str:
    """What Flask-Login keeps in the session for ``user``: with server-side sessions (crm.auth.sessions,
    issue 9) a fresh session row is opened, as a sign-in would (the caller commits)."""
    try:
        from crm.auth import sessions
    except ImportError:
        return user.get_id()
    return sessions.issue(user, user_agent="bench")


def page_list(s: dict, app) -> list[tuple]:
    """(label, who, method, url, form, runs divisor[, before]) for each measured page; ``before`` runs before each
    request, outside the timing and the statement count."""
    pages = [
        ("Caseload (volunteer, 50 rows)", "volunteer", "GET", "/members/", None, 1),
        ("Case file", "volunteer", "GET", f"/members/{s['member_id']}", None, 1),
        ("Search by name (branch)", "supervisor", "GET", f"/members/search?q={s['name']}", None, 1),
        ("Search by pinyin (branch)", "supervisor", "GET", f"/members/search?q={s['pinyin']}", None, 1),
        ("Board, one volunteer", "volunteer", "GET", "/pairings/board", None, 1),
        ("Board, whole branch", "supervisor", "GET", "/pairings/board", None, 1),
        ("Suggestions", "volunteer", "GET", f"/members/{s['member_id']}/suggestions", None, 1),
    ]
    if "stats.dashboard" in app.view_functions:  # crm/stats (issue 7) once it lands
        with app.test_request_context():
            from flask import url_for
            dashboard = url_for("stats.dashboard")
        from crm.stats import cache
        # A repeated view is served from the per-process cache (crm/stats/cache.py) until anything changes;
        # the first view after a change computes everything, which in a busy union is most views.
        pages.append(("Supervisor dashboard (cached)", "supervisor", "GET", dashboard, None, 1))
        pages.append(("Supervisor dashboard (after a change)", "supervisor", "GET", dashboard, None, 4, cache.clear))
    if s["card_pairing"]:
        pages.append(("One PDF card (2 sides)", "volunteer", "GET", f"/pairings/{s['card_pairing']}/cards.pdf",
                      None, 4))
    if s["batch"]:
        pages.append((f"Batch of {2 * len(s['batch'])} cards", "supervisor", "POST", "/cards/batch",
                      {"pairing_id": [str(i) for i in s["batch"]]}, 0))
    return pages


class StatementLog:
    def __init__(self, engine):
        self.engine, self.items, self.on = engine, [], False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, executemany):
        if self.on:
            self.items.append((statement, parameters, executemany))

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def capture(self, fn):
        self.items, self.on = [], True
        try:
            fn()
        finally:
            self.on = False
        return list(self.items)


def replay_floor(engine, statements, runs: int) -> float:
    """Median ms to run ``statements`` (and fetch all rows) on a raw DBAPI connection; writes rolled back."""
    statements = [s for s in statements if not s[0].lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        times = []
        for _ in range(runs):
            cur = dbapi.cursor()
            if engine.dialect.name == "sqlite" and not dbapi.in_transaction:
                cur.execute("BEGIN")  # the app's connections run in autocommit mode and BEGIN themselves
            t = time.perf_counter()
            for statement, params, many in statements:
                if many and isinstance(params, list) and params and isinstance(params[0], (tuple, list, dict)):
                    cur.executemany(statement, params)
                else:
                    cur.execute(statement, params)
                if cur.description is not None:
                    cur.fetchall()
            times.append(time.perf_counter() - t)
            cur.close()
            dbapi.rollback()
        return statistics.median(times) * 1000
    finally:
        raw.close()


def client_for(app, user_id: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    return client


def measure(app, runs: int = 40, echo=print, warmup: int = 2) -> tuple[list[Result], dict]:
    from crm.extensions import db

    subjects = pick_subjects(app)
    results = []
    # Requests run outside any app context of ours: each gets its own, as in a server. An app context
    # held around them would share ``g`` between requests (Flask-Login's cached user, Babel's locale).
    with app.app_context():
        engine = db.engine
        t = time.perf_counter()
        from crm.matching import service as matching
        matching.current_index()  # built once at start-up in a server; not part of a request
        index_s = time.perf_counter() - t
    log = StatementLog(engine)
    clients = {who: client_for(app, subjects[who]) for who in ("volunteer", "supervisor")}
    try:
        for label, who, method, url, form, divisor, *before in page_list(subjects, app):
            client = clients[who]

            def request(client=client, method=method, url=url, form=form):
                response = client.open(url, method=method, data=form)
                response.get_data()
                return response

            n = max(1, runs // divisor) if divisor else min(3, runs)
            first = request()  # warm-up: templates compiled, caches filled
            for _ in range(warmup):
                request()
            counts, times = [], []
            for _ in range(n):
                took = []
                for step in before:
                    step()
                stmts = log.capture(lambda took=took, request=request: took.append(_timed(request)))
                times.append(took[0])
                counts.append(len(stmts))
            floor = replay_floor(engine, stmts, max(5, n)) if stmts else None
            times_ms = sorted(x * 1000 for x in times)
            result = Result(label, f"{method} {url}", n, statistics.median(times_ms),
                            times_ms[min(len(times_ms) - 1, int(0.95 * len(times_ms)))],
                            counts[-1], len(set(counts)) == 1, floor, first.status_code)
            if first.headers.get("X-Cards-Skipped") not in (None, "0"):
                result.note = f"{first.headers['X-Cards-Skipped']} skipped"
            results.append(result)
            echo(f"{label:<34} {result.median_ms:8.1f} ms median {result.p95_ms:8.1f} p95  "
                 f"{result.statements:3d} stmts  floor {result.floor_ms or 0:6.2f} ms  status {first.status_code}")
    finally:
        log.close()
    subjects["index_build_s"] = round(index_s, 2)
    return results, subjects


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def machine(engine) -> dict:
    import platform
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + conn.scalar(text("select sqlite_version()"))
        else:
            version = "PostgreSQL " + conn.scalar(text("show server_version")).split()[0]
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "database": version,
            "load": " ".join(load),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def markdown_table(report: dict) -> str:
    lines = ["| Page | median ms | p95 ms | statements | floor ms | x floor |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        constant = "" if r.get("statements_constant", True) else " (varies)"
        floor = f"{r['floor_ms']:.2f}" if r["floor_ms"] is not None else "–"
        ratio = f"{r['ratio']:.0f}×" if r.get("ratio") else "–"
        note = f" ({r['note']})" if r.get("note") else ""
        lines.append(f"| {r['page']}{note} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
                     f"{r['statements']}{constant} | {floor} | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    """Pages, then (unless --no-serve) gunicorn + wrk; writes the JSON report to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database", default="", help="a database URL; 'env' reads DATABASE_URL "
                        "(scripts/with-pg.sh); default: the SQLite file under bench/.data/")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per page after the first")
    parser.add_argument("--no-serve", action="store_true", help="skip the gunicorn + wrk part")
    parser.add_argument("--out", default="", help="write the results as JSON here (bench/report.py reads them)")
    args = parser.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    url = os.environ["DATABASE_URL"] if args.database == "env" else (args.database or sqlite_url(args.members))
    app = make_app(url)
    ensure_data(app, args.members)
    results, subjects = measure(app, args.runs, warmup=args.warmup)
    with app.app_context():
        from crm.extensions import db
        info = machine(db.engine)
        db.engine.dispose()
    report = {"machine": info, "members": args.members, "subjects": subjects,
              "results": [asdict(r) | {"ratio": r.ratio} for r in results]}
    print(markdown_table(report))
    if not args.no_serve:
        from bench import serve
        report["serve"] = serve.measure(app, url, BENCH_SECRET, subjects["volunteer"], subjects["member_id"],
                                        args.seconds)
        for label, r in report["serve"].items():
            print(f"{label:<28} {r}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
