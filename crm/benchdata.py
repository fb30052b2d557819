"""`flask seed-bench --members N`: a union-scale dataset for the benchmark (bench/), made with bulk inserts.

At ``--members 100000``: 2,000 users in 20 branches, 500,000 notes, 200,000 pairings with their
stage history (~600k rows) and both consents each, 50,000 follow-ups, 50,000 counselling sessions
(with their referrals and risk alerts), and 500 mixer events with their registrations. Everything scales
with ``--members`` (users = N/50, notes = 5N, pairings = 2N, follow-ups and sessions = N/2).

Rows are built as tuples with explicit ids, then written with the driver's ``executemany`` on
SQLite and ``COPY ... FROM STDIN`` on PostgreSQL: no ORM objects, no per-row statements.
The data obeys the app's rules: each pairing's stage is its last StageChange and every step of
the history is a move that :data:`crm.pairings.pipeline.TRANSITIONS` allows; both consents exist
for every pairing and are both "yes" from ``introduced`` on; members in a relationship or engaged
are ``in_relationship``, married ones ``closed (married)``, and a member is in at most one such
pairing (their other pairings are closed).

Logins (password ``queqiao-demo``): admin, supervisor, volunteer, counsellor, as with seed-demo.
"""

import hmac
import json
import random
import time
from datetime import date, datetime, timedelta
from hashlib import sha256

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from crm.auth.models import Role, User
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members import vocab
from crm.members.pinyin import name_keys

PASSWORD = "queqiao-demo"
EMPLOYERS = ["市地铁集团", "国网供电公司", "省人民医院", "市第二中学", "市公交集团", "中国银行分行", "汽车制造厂",
             "市场监督管理局", "食品集团", "钢铁集团", "网络科技有限公司", "移动通信分公司", "市第一人民医院",
             "区教育局", "城市管理局", "速运分公司", "城市商业银行", "机械集团", "自来水公司", "燃气集团"]
INTROS = ["性格开朗，喜欢周末去爬山，希望找一个能一起运动的人。", "工作稳定，平时喜欢看书做饭，向往简单踏实的生活。",
          "父母都是老师，自己比较顾家，希望对方真诚善良。", "平时爱摄影和旅行，想找个志同道合的伴侣。",
          "在医院上班，工作比较忙，喜欢烘焙和养猫。", "踏实肯干，喜欢打羽毛球，希望另一半性格温和。"]
NOTE_TEXTS = ["电话回访，了解近期工作情况，会员希望周末参加活动。", "当面沟通择偶要求，补充了兴趣爱好。",
              "微信联系，会员表示最近工作忙，下月再安排见面。", "到单位走访，工会主席证实其单身情况。",
              "会员反馈对上次介绍的对象印象不错，希望继续了解。", "提醒会员更新个人简介和照片。"]
OCCUPATIONS = {"manufacturing": "装配技师", "engineering": "电气工程师", "it": "软件工程师", "education": "语文教师",
               "healthcare": "护士", "public_service": "科员", "finance": "客户经理", "retail": "店长",
               "transport": "公交驾驶员", "construction": "施工员", "energy": "变电运维员", "other": "行政专员"}

# Final stage of a pairing: most are closed or early, some married.
STAGE_WEIGHTS = {"closed": 56, "proposed": 5, "awaiting_consent": 9, "introduced": 7, "first_meeting": 6,
                 "dating": 5, "relationship": 3, "engaged": 2, "married": 7}
# The stage a closed pairing was closed from, and why.
CLOSED_FROM = {"proposed": 8, "awaiting_consent": 40, "introduced": 20, "first_meeting": 20, "dating": 9,
               "relationship": 3}
FORWARD = ["proposed", "awaiting_consent", "introduced", "first_meeting", "dating", "relationship", "engaged",
           "married"]
TAKEN = {"relationship", "engaged", "married"}


class Writer:
    """Bulk rows into one table: sqlite3 executemany, or psycopg COPY."""

    def __init__(self, connection):
        self.conn = connection  # a SQLAlchemy Connection inside a transaction
        self.pg = connection.dialect.name == "postgresql"
        self.raw = connection.connection.driver_connection
        self.counts: dict[str, int] = {}

    def ts(self, value: datetime | None):
        if value is None or self.pg:
            return value
        return value.isoformat(sep=" ", timespec="microseconds")

    def day(self, value: date | None):
        if value is None or self.pg:
            return value
        return value.isoformat()

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        columns, rows = self._with_defaults(table, columns, rows)
        names = ", ".join(columns)
        cur = self.raw.cursor()
        if self.pg:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        cur.close()
        self.counts[table] = self.counts.get(table, 0) + len(rows)

    def _with_defaults(self, table: str, columns: list[str], rows: list[tuple]):
        """Columns that others add later with a Python-side default get that default, so the generator keeps working."""
        t = db.metadata.tables[table]
        extra = [c for c in t.columns if c.name not in columns and not c.nullable and c.default is not None
                 and not c.primary_key]
        if not extra:
            return columns, rows
        values = []
        for c in extra:
            arg = c.default.arg
            value = arg(None) if callable(arg) else arg
            value = getattr(value, "value", value)
            values.append(self.ts(value) if isinstance(value, datetime) else value)
        return columns + [c.name for c in extra], [row + tuple(values) for row in rows]

    def reset_sequences(self) -> None:
        if not self.pg:
            return
        cur = self.raw.cursor()
        for table in [t for t in self.counts if "id" in db.metadata.tables[t].c]:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
        cur.close()


class Generator:
    def __init__(self, writer: Writer, members: int, seed: int, secret: str, password_hash: str):
        self.w = writer
        self.n = members
        self.rng = random.Random(seed)
        self.secret = secret.encode()
        self.password_hash = password_hash
        self.now = now_utc().replace(microsecond=0)
        self.today = today()
        self._pinyin: dict[str, tuple[str, str]] = {}

    def keys(self, name: str) -> tuple[str, str]:
        found = self._pinyin.get(name)
        if found is None:
            found = self._pinyin[name] = name_keys(name)
        return found

    def ago(self, lo_days: float, hi_days: float) -> datetime:
        return self.now - timedelta(seconds=int(self.rng.uniform(lo_days, hi_days) * 86400))

    # -- branches and users ---------------------------------------------------------------
    def branches_and_users(self, fake):
        rng, w = self.rng, self.w
        cities = list(vocab.CITIES)
        n_branches = max(2, self.n // 5000)
        self.branches = []  # (id, city)
        rows = []
        for i in range(n_branches):
            city = cities[i % len(cities)]
            districts = vocab.CITIES[city]
            if i < len(cities):
                name = f"{city}总工会职工婚恋服务中心"
            else:
                name = f"{city}{districts[(i // len(cities)) % len(districts)]}总工会鹊桥驿站{i // len(cities)}"
            parent = None if i < len(cities) else (i % len(cities)) + 1
            rows.append((i + 1, name, city, f"0571-8{i:07d}", parent, w.ts(self.ago(900, 1200))))
            self.branches.append((i + 1, city))
        w.write("branches", ["id", "name", "city", "phone", "parent_id", "created_at"], rows)

        n_users = max(len(self.branches) * 6, self.n // 50)
        per_branch = max(8, n_users // len(self.branches))
        staff = 3 if per_branch >= 30 else 1  # supervisors, and as many counsellors, per branch
        self.volunteers: dict[int, list[int]] = {}
        self.supervisors: dict[int, list[int]] = {}
        self.counsellors: dict[int, list[int]] = {}
        rows, uid = [], 0
        named = {}  # the four logins of the demo, in the first branch
        for b, _city in self.branches:
            for j in range(per_branch):
                uid += 1
                if b == 1 and j == 0:
                    roles, username = Role.ADMIN, "admin"
                elif j <= staff:
                    roles, username = Role.SUPERVISOR, f"s{uid:05d}"
                elif j <= 2 * staff:
                    roles, username = Role.COUNSELLOR, f"c{uid:05d}"
                else:
                    roles, username = Role.VOLUNTEER, f"v{uid:05d}"
                if b == 1 and roles is not Role.ADMIN and roles.name.lower() not in named:
                    named[roles.name.lower()] = uid
                    username = roles.name.lower()
                {Role.SUPERVISOR: self.supervisors, Role.COUNSELLOR: self.counsellors,
                 Role.VOLUNTEER: self.volunteers}.get(roles, {}).setdefault(b, []).append(uid)
                name = fake.name()
                rows.append((uid, username, name, f"139{uid:08d}", self.password_hash, roles.value, b, True, 60,
                             f"{rng.getrandbits(128):032x}", w.ts(self.ago(800, 1000))))
        w.write("users", ["id", "username", "display_name", "phone", "password_hash", "roles", "branch_id",
                          "is_active_user", "max_caseload", "session_token", "created_at"], rows)
        self.user_count = uid

    # -- members, assignments ------------------------------------------------------------
    def members(self, fake):
        rng, w = self.rng, self.w
        educations = ["junior", "high_school", "associate", "bachelor", "master", "doctorate"]
        interests = list(vocab.INTERESTS)
        questions = list(vocab.VALUES_QUESTIONS)
        categories = list(OCCUPATIONS)
        men = [fake.name_male() for _ in range(min(self.n, 4000))]
        women = [fake.name_female() for _ in range(min(self.n, 4000))]
        provinces = [fake.province() + fake.city_name() for _ in range(200)]
        self.m_branch, self.m_owner, self.m_gender, self.m_created = [None], [None], [None], [None]
        self.m_eligible = [False]
        self.rows_members = []
        assignments = []
        for mid in range(1, self.n + 1):
            b, city = self.branches[rng.randrange(len(self.branches))]
            owner = rng.choice(self.volunteers[b]) if rng.random() < 0.9 else None
            supervisor = self.supervisors[b][0]
            male = rng.random() < 0.5
            name = rng.choice(men if male else women)
            pinyin, initials = self.keys(name)
            born = self.today - timedelta(days=rng.randint(23 * 365, 45 * 365))
            age = (self.today - born).days // 365
            phone = f"1{rng.choice('3578')}{(mid * 7919 + 13) % 10**9:09d}"
            id_number = f"330106{born:%Y%m%d}{mid % 1000:03d}{rng.choice('0123456789X')}"
            id_hash = hmac.new(self.secret, id_number.encode(), sha256).hexdigest()
            districts = vocab.CITIES[city]
            category = rng.choice(categories)
            created = self.ago(400, 1500)
            verified = rng.random() < 0.85
            consent_at = created if verified or rng.random() < 0.5 else None
            vat = w.ts(created) if verified else None
            vby = supervisor if verified else None
            marital = rng.choices(("never", "divorced", "widowed"), weights=(85, 13, 2))[0]
            row = [mid, 1, b, owner, name, pinyin, initials, "male" if male else "female", w.day(born), phone,
                   phone[-4:], f"wx_{pinyin[:10]}{mid}", id_number[-4:], id_hash, rng.choice(EMPLOYERS),
                   "基层工会委员会", True, category, OCCUPATIONS[category],
                   rng.choices(educations, weights=(1, 3, 5, 8, 3, 1))[0],
                   "unit" if rng.random() < 0.3 else "standard",
                   rng.randint(165, 188) if male else rng.randint(152, 172), rng.choice(provinces), city,
                   rng.choice(districts), city, rng.choice(districts), rng.choice([city, city, None]), marital,
                   rng.choice([0, 1]) if marital != "never" else 0, rng.choice(INTROS), False,
                   json.dumps(rng.sample(interests, rng.randint(3, 6))),
                   json.dumps({q: rng.randint(1, 5) for q in questions}), rng.random() < 0.03,
                   max(20, age - rng.randint(3, 6)), min(60, age + rng.randint(3, 6)),
                   (150 if male else 165) if rng.random() < 0.5 else None, None,
                   rng.choice([None, None, "high_school", "bachelor"]), json.dumps([]),
                   rng.random() < 0.6, rng.random() < 0.3,
                   "active" if verified and consent_at else "intake", None,
                   vat, vby, vat, vby, vat, vby, w.ts(consent_at), supervisor if consent_at else None,
                   w.ts(created), w.ts(created), None]
            self.rows_members.append(row)
            self.m_branch.append(b)
            self.m_owner.append(owner)
            self.m_gender.append(male)
            self.m_created.append(created)
            self.m_eligible.append(bool(verified and consent_at))
            if owner:
                assignments.append((len(assignments) + 1, mid, None, owner, supervisor, "新建档案", w.ts(created)))
        self.assignments = assignments

    MEMBER_COLUMNS = [
        "id", "version", "branch_id", "owner_id", "name", "name_pinyin", "name_initials", "gender", "birth_date",
        "phone", "phone_last4", "wechat_id", "id_last4", "id_hash", "employer", "union_name", "is_union_member",
        "occupation_category", "occupation", "education", "tier", "height_cm", "hometown", "work_city",
        "work_district", "home_city", "home_district", "settle_city", "marital_history", "children_count",
        "self_intro", "photo_consent", "interests", "values_answers", "opt_out_suggestions", "pref_age_min",
        "pref_age_max", "pref_height_min", "pref_height_max", "pref_min_education", "pref_districts",
        "pref_accepts_divorced", "pref_accepts_children", "status", "close_reason", "realname_verified_at",
        "realname_verified_by_id", "employer_verified_at", "employer_verified_by_id", "pledge_signed_at",
        "pledge_recorded_by_id", "consent_at", "consent_recorded_by_id", "created_at", "updated_at",
        "last_contact_at"]
    STATUS, CLOSE_REASON, LAST_CONTACT = MEMBER_COLUMNS.index("status"), MEMBER_COLUMNS.index("close_reason"), -1

    # -- pairings, history, consents ----------------------------------------------------------
    def pairings(self):
        rng, w = self.rng, self.w
        by_city: dict[tuple[str, bool], list[int]] = {}
        city_of = dict(self.branches)
        for mid in range(1, self.n + 1):
            if self.m_eligible[mid]:
                by_city.setdefault((city_of[self.m_branch[mid]], self.m_gender[mid]), []).append(mid)
        cities = [c for c in {c for c, _ in by_city} if by_city.get((c, True)) and by_city.get((c, False))]
        target = 2 * self.n
        stages, weights = list(STAGE_WEIGHTS), list(STAGE_WEIGHTS.values())
        seen: set[tuple[int, int]] = set()
        plan = []  # (low, high, final stage)
        attempts = 0
        while len(plan) < target and cities and attempts < target * 3:
            attempts += 1
            city = rng.choice(cities)
            a, b = rng.choice(by_city[(city, True)]), rng.choice(by_city[(city, False)])
            pair = (a, b) if a < b else (b, a)
            if pair in seen:
                continue
            seen.add(pair)
            plan.append((*pair, rng.choices(stages, weights)[0]))
        # A member is in at most one relationship/engaged/married pairing; their others are closed.
        taken: set[int] = set()
        for i, (lo, hi, stage) in enumerate(plan):
            if stage in TAKEN:
                if lo in taken or hi in taken:
                    plan[i] = (lo, hi, "closed")
                else:
                    taken.update((lo, hi))
        for i, (lo, hi, stage) in enumerate(plan):
            if stage not in TAKEN and stage != "closed" and (lo in taken or hi in taken):
                plan[i] = (lo, hi, "closed")
        self.taken_stage: dict[int, str] = {}
        self.open_pairings: list[tuple[int, int, int]] = []  # (pairing id, low, high)
        pairings, history, consents = [], [], []
        sources = ["suggestion", "event", "manual", "member_request"]
        close_from, close_from_w = list(CLOSED_FROM), list(CLOSED_FROM.values())
        sc_id = 0
        for pid, (lo, hi, final) in enumerate(plan, start=1):
            if final == "closed":
                closed_from = rng.choices(close_from, close_from_w)[0]
                path_to = closed_from
            else:
                closed_from, path_to = None, final
            start = "proposed" if path_to == "proposed" or rng.random() < 0.15 else "awaiting_consent"
            steps = FORWARD[FORWARD.index(start):FORWARD.index(path_to) + 1]
            reason = None
            if closed_from:
                steps.append("closed")
                if closed_from == "awaiting_consent":
                    reason = rng.choice(["declined", "declined", "lost_contact"])
                elif closed_from == "proposed":
                    reason = rng.choice(["other", "lost_contact"])
                else:
                    reason = rng.choice(["no_chemistry", "no_chemistry", "lost_contact", "ended_by_member", "other"])
            # Time: created after both members, each step some days later, the last before now.
            earliest = max(self.m_created[lo], self.m_created[hi]) + timedelta(days=1)
            span = max((self.now - earliest).total_seconds() / 86400 - 1, 1)
            created = earliest + timedelta(days=rng.uniform(0, span * 0.8))
            owner = self.m_owner[lo] or self.m_owner[hi] or self.supervisors[self.m_branch[lo]][0]
            other = self.m_owner[hi] or owner
            at, prev = created, None
            asked_at = created
            introduced_at = None
            for k, stage in enumerate(steps):
                if k:
                    left = (self.now - at).total_seconds() / 86400
                    at = at + timedelta(days=rng.uniform(0.05, max(0.1, min(30.0, left / (len(steps) - k + 1)))))
                sc_id += 1
                history.append((sc_id, pid, prev, stage, w.ts(at), rng.choice((owner, other)),
                                None, reason if stage == "closed" else None))
                if stage == "awaiting_consent":
                    asked_at = at
                if stage == "introduced":
                    introduced_at = at
                prev = stage
            stage = steps[-1]
            pairings.append((pid, 1, lo, hi, owner, rng.choices(sources, (40, 15, 35, 10))[0], stage,
                             reason, w.ts(at), w.ts(created)))
            # Both consents exist from the proposal on.
            for side, mid in ((0, lo), (1, hi)):
                recorder = self.m_owner[mid] or owner
                if introduced_at is not None:
                    answer, rec_at = "yes", introduced_at - timedelta(hours=rng.uniform(1, 48) if side else 49)
                elif reason == "declined":
                    answer, rec_at = ("yes", asked_at + timedelta(hours=2)) if side == 0 else \
                        ("no", at - timedelta(minutes=5))
                elif stage == "awaiting_consent" and side == 0 and rng.random() < 0.5:
                    answer, rec_at = "yes", asked_at + timedelta(hours=3)
                else:
                    answer, rec_at = "pending", None
                recorded = answer != "pending"
                rec_at = max(rec_at, asked_at) if rec_at else None
                yes = answer == "yes"
                consents.append((2 * pid - 1 + side, pid, mid, w.ts(asked_at), answer,
                                 rng.choice(("phone", "wechat", "in_person")) if recorded else None,
                                 recorder if recorded else None, w.ts(rec_at), yes, yes and rng.random() < 0.7,
                                 yes, False, yes and rng.random() < 0.3))
            if stage in TAKEN:
                self.taken_stage[lo] = self.taken_stage[hi] = stage
            if stage != "closed" and stage != "married":
                self.open_pairings.append((pid, lo, hi))
        self.pending = lambda: self._write_pairings(pairings, history, consents)
        self.pairing_count = len(pairings)

    def _write_pairings(self, pairings, history, consents):
        w = self.w
        w.write("pairings", ["id", "version", "member_low_id", "member_high_id", "proposed_by_id", "source", "stage",
                             "close_reason", "stage_changed_at", "created_at"], pairings)
        w.write("stage_changes", ["id", "pairing_id", "from_stage", "to_stage", "at", "by_id", "note",
                                  "close_reason"], history)
        w.write("pairing_consents", ["id", "pairing_id", "member_id", "asked_at", "answer", "channel",
                                     "recorded_by_id", "recorded_at", "share_full_name", "share_phone",
                                     "share_wechat", "share_photo", "share_employer"], consents)
        # The statistics' "first reached" table, from the history just written (one INSERT ... SELECT).
        from crm.pairings.firsts import recomputed
        from crm.pairings.models import PairingStageFirst
        done = w.conn.execute(PairingStageFirst.__table__.insert().from_select(
            ["pairing_id", "stage", "reached_at"], recomputed()))
        w.counts["pairing_stage_firsts"] = done.rowcount
        # Each move's next move (stage_changes.next_at, the statistics' days per stage): one set-based UPDATE.
        from crm.pairings.next_moves import rebuild as rebuild_next_moves
        rebuild_next_moves(w.conn)
        from crm.pairings import consent_stage  # each consent's copy of its pairing's stage
        consent_stage.rebuild(w.conn)

    # -- notes (and the members, now that last contact and statuses are known) ------------------
    def notes_and_members(self):
        rng, w = self.rng, self.w
        kinds = ["call", "meeting", "wechat", "visit", "other"]
        last = [None] * (self.n + 1)
        rows = []
        target = 5 * self.n
        pairing_notes = target // 10
        batch = 100_000
        for nid in range(1, target + 1):
            if nid <= pairing_notes and self.open_pairings:
                pid, lo, hi = self.open_pairings[rng.randrange(len(self.open_pairings))]
                mid = lo if rng.random() < 0.5 else hi
            else:
                pid, mid = None, rng.randint(1, self.n)
            created = self.m_created[mid]
            when = created + timedelta(seconds=int(rng.uniform(0, (self.now - created).total_seconds())))
            author = self.m_owner[mid] or self.supervisors[self.m_branch[mid]][0]
            rows.append((nid, 1, mid, pid, author, rng.choice(kinds), rng.choice(NOTE_TEXTS), w.day(when.date()),
                         w.ts(when)))
            if last[mid] is None or when > last[mid]:
                last[mid] = when
        for mid, row in enumerate(self.rows_members, start=1):
            stage = self.taken_stage.get(mid)
            if stage == "married":
                row[self.STATUS], row[self.CLOSE_REASON] = "closed", "married"
            elif stage:
                row[self.STATUS] = "in_relationship"
            elif row[self.STATUS] == "active" and not self._in_open_pairing(mid):
                r = rng.random()
                if r < 0.05:
                    row[self.STATUS] = "paused"
                elif r < 0.10:
                    row[self.STATUS], row[self.CLOSE_REASON] = "closed", rng.choice(["withdrew", "moved_away"])
            row[self.LAST_CONTACT] = w.ts(last[mid])
        self.members_written = 0
        for i in range(0, len(self.rows_members), batch):
            chunk = [tuple(r) for r in self.rows_members[i:i + batch]]
            w.write("members", self.MEMBER_COLUMNS, chunk)
        w.write("assignments", ["id", "member_id", "from_user_id", "to_user_id", "by_id", "reason", "at"],
                self.assignments)
        self.pending()  # pairings refer to members: written after them (foreign keys are checked per statement)
        for i in range(0, len(rows), batch):
            w.write("notes", ["id", "version", "member_id", "pairing_id", "author_id", "kind", "body", "contact_on",
                              "created_at"], rows[i:i + batch])

    def _in_open_pairing(self, mid: int) -> bool:
        if not hasattr(self, "_open_members"):
            self._open_members = {m for _p, lo, hi in self.open_pairings for m in (lo, hi)}
        return mid in self._open_members

    # -- follow-ups ---------------------------------------------------------------------------
    def followups(self):
        rng, w = self.rng, self.w
        kinds = ["check_in", "after_meeting", "monthly", "consent", "other"]
        rows = []
        for fid in range(1, self.n // 2 + 1):
            if self.open_pairings and rng.random() < 0.4:
                pid, lo, hi = self.open_pairings[rng.randrange(len(self.open_pairings))]
                mid = lo if rng.random() < 0.5 else hi
            else:
                pid, mid = None, rng.randint(1, self.n)
            assignee = self.m_owner[mid] or self.supervisors[self.m_branch[mid]][0]
            due = self.today + timedelta(days=rng.randint(-90, 45))
            done = due < self.today and rng.random() < 0.8
            done_at = (datetime.combine(due, datetime.min.time()) + timedelta(hours=rng.uniform(9, 18))
                       if done else None)
            rows.append((fid, w.day(due), assignee, mid, pid, rng.choice(kinds), None, assignee, w.ts(done_at),
                         assignee if done else None, "已回访，情况正常。" if done else None,
                         w.ts(datetime.combine(due, datetime.min.time()) - timedelta(days=7))))
        w.write("followups", ["id", "due_on", "assignee_id", "member_id", "pairing_id", "kind", "title",
                              "created_by_id", "done_at", "done_by_id", "outcome", "created_at"], rows)

    # -- counselling ----------------------------------------------------------------------------
    def counselling(self):
        rng, w = self.rng, self.w
        n_sessions = self.n // 2
        n_referrals = max(1, n_sessions // 3)
        referrals, sessions, alerts = [], [], []
        accepted = []
        for rid in range(1, n_referrals + 1):
            mid = rng.randint(1, self.n)
            b = self.m_branch[mid]
            by = self.m_owner[mid] or self.supervisors[b][0]
            created = self.ago(30, 700)
            status = rng.choices(("accepted", "closed", "open"), (60, 30, 10))[0]
            counsellor = rng.choice(self.counsellors[b]) if status != "open" else None
            acc = created + timedelta(days=2) if counsellor else None
            closed = acc + timedelta(days=25) if status == "closed" else None
            referrals.append((rid, mid, None, b, "会员希望就婚恋观进行咨询。", by, False, w.ts(created), by,
                              rng.choice(("phone", "wechat", "in_person", "written")), status, counsellor,
                              w.ts(acc), w.ts(closed), counsellor if closed else None,
                              "咨询结束，会员状态良好。" if closed else None, w.ts(created)))
            if counsellor:
                accepted.append((rid, mid, b, counsellor, acc))
        modes, topics = ("in_person", "phone", "online"), ("marriage_views", "relationship", "communication",
                                                             "psychological", "other")
        for sid in range(1, n_sessions + 1):
            rid, mid, b, counsellor, acc = accepted[rng.randrange(len(accepted))] if accepted else (None,) * 5
            if rid is None:
                break
            held = (acc + timedelta(days=rng.randint(0, 60))).date()
            held = min(held, self.today)
            risk = rng.choices(("none", "low", "high"), (90, 8, 2))[0]
            sessions.append((sid, rid, counsellor, w.day(held), rng.choice((45, 50, 60)), rng.choice(modes),
                             rng.choice(topics), "来访者谈到近期的情绪和对婚恋的期待。（保密）",
                             "建议继续参加联谊活动。",
                             w.day(held + timedelta(days=14)) if rng.random() < 0.3 else None, risk,
                             w.ts(datetime.combine(held, datetime.min.time()) + timedelta(hours=15))))
            if risk == "high":
                raised = datetime.combine(held, datetime.min.time()) + timedelta(hours=16)
                ack = rng.random() < 0.8
                alerts.append((len(alerts) + 1, sid, b, mid, w.ts(raised), self.supervisors[b][0] if ack else None,
                               w.ts(raised + timedelta(hours=3)) if ack else None))
        w.write("referrals", ["id", "member_id", "pairing_id", "branch_id", "reason", "referred_by_id",
                              "is_self_referred", "consent_at", "consent_recorded_by_id", "consent_channel", "status",
                              "counsellor_id", "accepted_at", "closed_at", "closed_by_id", "outcome", "created_at"],
                referrals)
        w.write("counselling_sessions", ["id", "referral_id", "counsellor_id", "held_on", "duration_minutes", "mode",
                                         "topic", "confidential_notes", "shareable_summary", "next_session_on", "risk",
                                         "created_at"], sessions)
        w.write("risk_alerts", ["id", "session_id", "branch_id", "member_id", "raised_at", "acknowledged_by_id",
                                "acknowledged_at"], alerts)

    # -- events (when crm.events exists) ------------------------------------------------------
    def events(self):
        """Mixer events and registrations, once the events package has its models (issue 6)."""
        if "events" not in db.metadata.tables:
            return False
        rng, w = self.rng, self.w
        city_of = dict(self.branches)
        by_city: dict[str, list[int]] = {}
        for mid in range(1, self.n + 1):
            if self.m_eligible[mid]:
                by_city.setdefault(city_of[self.m_branch[mid]], []).append(mid)
        events, hosts, registrations = [], [], []
        places = ["职工之家活动室", "工人文化宫", "湿地公园", "图书馆报告厅", "青年驿站"]
        titles = ["周末徒步联谊", "读书分享会", "烘焙体验联谊", "羽毛球交友赛", "青年职工交友会"]
        for eid in range(1, max(1, self.n // 200) + 1):
            b, city = self.branches[rng.randrange(len(self.branches))]
            held = rng.random() < 0.7
            starts = self.ago(10, 700) if held else self.now + timedelta(days=rng.randint(3, 60))
            starts = starts.replace(minute=0, second=0, microsecond=0)
            status = "held" if held else rng.choice(["open", "open", "planned", "closed"])
            if not held and rng.random() < 0.05:
                status = "cancelled"
            capacity = rng.choice([30, 40, 60, 80])
            events.append((eid, 1, rng.choice(titles), None, w.ts(starts), w.ts(starts + timedelta(hours=3)),
                           f"{city}{rng.choice(places)}", b, capacity, 60, w.ts(starts - timedelta(days=2)), status,
                           self.supervisors[b][0], w.ts(starts - timedelta(days=30)),
                           w.ts(starts - timedelta(days=30)), f"b{eid:06d}{rng.getrandbits(96):024x}"))
            hosts.append((eid, b))
            pool = by_city.get(city, [])
            if status in ("planned", "cancelled") or not pool:
                continue
            chosen = rng.sample(pool, min(len(pool), int(capacity * rng.uniform(0.6, 1.2))))
            for badge, mid in enumerate(chosen, start=1):
                over = badge > capacity
                if held:
                    st = "waitlisted" if over else rng.choices(("attended", "no_show", "cancelled"), (80, 10, 10))[0]
                else:
                    st = "waitlisted" if over else ("cancelled" if rng.random() < 0.05 else "registered")
                reg_at = starts - timedelta(days=rng.uniform(3, 25))
                registrations.append((len(registrations) + 1, eid, mid, st, badge,
                                      self.m_owner[mid] or self.supervisors[b][0], w.ts(reg_at),
                                      badge - capacity if over else None,
                                      w.ts(reg_at + timedelta(days=1)) if st == "cancelled" else None,
                                      w.ts(starts + timedelta(minutes=10)) if st == "attended" else None,
                                      self.supervisors[b][0] if st == "attended" else None))
        w.write("events", ["id", "version", "title", "description", "starts_at", "ends_at", "place", "branch_id",
                           "capacity", "max_gender_percent", "signup_deadline", "status", "created_by_id",
                           "created_at", "updated_at", "public_token"], events)
        w.write("event_hosts", ["event_id", "branch_id"], hosts)
        w.write("event_registrations", ["id", "event_id", "member_id", "status", "badge_number", "registered_by_id",
                                        "registered_at", "waitlist_position", "cancelled_at", "checked_in_at",
                                        "checked_in_by_id"], registrations)
        return True


def generate(engine, members: int = 100_000, seed: int = 2026, secret: str = "bench",
             password_hash: str | None = None, echo=lambda msg: None) -> dict[str, int]:
    """Fill an empty database with the benchmark dataset; returns the row counts per table."""
    from faker import Faker

    from crm.auth.passwords import hash_password

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    started = time.perf_counter()
    with engine.begin() as conn:
        writer = Writer(conn)
        g = Generator(writer, members, seed, secret, password_hash or hash_password(PASSWORD))
        steps = [("users", lambda: g.branches_and_users(fake)), ("members", lambda: g.members(fake)),
                 ("pairings", g.pairings), ("notes", g.notes_and_members), ("follow-ups", g.followups),
                 ("counselling", g.counselling), ("events", g.events)]
        for label, step in steps:
            t = time.perf_counter()
            step()
            echo(f"  {label}: {time.perf_counter() - t:.1f} s")
        # The board's column totals per branch (crm.pairings.stage_counts), counted once from what was written.
        from crm.pairings import stage_counts
        writer.counts["pairing_stage_counts"] = stage_counts.rebuild(conn)
        from crm.members.models import rebuild_name_grams  # name search's substrings (bulk inserts skip the events)
        writer.counts["member_name_grams"] = rebuild_name_grams(conn)
        from crm.members import attention  # when each member was last attended to (the neglected members)
        attention.rebuild(conn)
        from crm.stats import facts  # the dashboard's per-branch facts, from the pairings, firsts and history
        writer.counts["stats_pairing_facts"] = facts.rebuild(conn)
        writer.reset_sequences()
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:  # the planner's statistics: without them SQLite guesses badly at this size
            conn.exec_driver_sql("ANALYZE")
    else:  # VACUUM too: the visibility map lets the covering indexes answer alone (index-only scans), as
        # autovacuum leaves a working database; measured before it had run, pages read the tables' rows,
        # and autovacuum's own passes over the fresh 1 GB ran beside the measurements
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    echo(f"Benchmark data generated in {time.perf_counter() - started:.1f} s")
    return writer.counts


@click.command("seed-bench")
@click.option("--members", "member_count", default=100_000, show_default=True,
              help="Members to create; everything else scales with it.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def seed_bench(member_count, seed):
    """Fill an empty database with the union-scale benchmark dataset (see crm/benchdata.py)."""
    from flask_migrate import upgrade
    upgrade()
    if db.session.scalar(select(func.count()).select_from(User)):
        raise click.ClickException("The database already has users; use an empty database for benchmark data.")
    db.session.remove()
    counts = generate(db.engine, member_count, seed, current_app.config["SECRET_KEY"], echo=click.echo)
    click.echo(", ".join(f"{table} {n:,}" for table, n in counts.items()))
    click.echo(f"Logins (password {PASSWORD}): admin, supervisor, volunteer, counsellor.")
