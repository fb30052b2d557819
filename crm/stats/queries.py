"""The supervisor dashboard's reads: a fixed number of grouped statements, whatever the data size.

Every function here issues ONE statement. Aggregates are computed in SQL; the per-member checks
(neglected members, caseloads) are correlated subqueries that seek an index per row.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from crm.auth.models import Role, User
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members.models import Member, MemberStatus
from crm.pairings.models import ConsentAnswer, PairingCloseReason, PairingConsent, Stage
from crm.stats import facts
from crm.stats.definitions import _ORDER, Period
from crm.stats.models import PairingFact
from crm.stats.sql import year_month


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    conversion: float | None  # share of the previous step that reached this one (0..1)
    median_days: float | None  # median time spent at this stage before the next move


def funnel(period: Period, branch_id: int | None) -> list[FunnelStep]:
    """Pairs proposed in the period (a cohort): how many ever reached each stage (two statements).

    A pair reached a stage or a later one exactly when it has that stage's ``pairing_stage_firsts``
    row (crm.pairings.firsts), that is when the furthest stage it has a row for is that stage or a
    later one: the cohort facts (crm.stats.facts) carry each pair's furthest stage, so each step is
    a sum of counts. Pairs without a history row (cannot happen through the pipeline) count nowhere."""
    stmt = (select(PairingFact.value, func.count())
            .where(*_facts(facts.COHORT, period, branch_id)).group_by(PairingFact.value))
    by_rank = {int(rank): n for rank, n in db.session.execute(stmt).all()}
    medians = median_days_in_stage(period, branch_id)
    steps, previous = [], None
    for i, stage in enumerate(_ORDER):
        reached = sum(n for rank, n in by_rank.items() if rank >= i)
        conversion = (reached / previous) if previous else None
        steps.append(FunnelStep(stage, reached, conversion, medians.get(stage.value)))
        previous = reached
    return steps


def _facts(kind: int, period: Period, branch_id: int | None) -> list:
    """The conditions of one range of ``ix_stats_pairing_facts_read``: a kind of fact of the branch
    (or the union) in the period."""
    return [PairingFact.scope_id == facts.scope_of(branch_id), PairingFact.kind == kind,
            PairingFact.at >= period.since, PairingFact.at < period.until]


def median_days_in_stage(period: Period, branch_id: int | None) -> dict[str, float]:
    """Median days between entering a stage (in the period) and the pair's next move, per stage.

    One statement. The days of each move until the pair's next move (``stage_changes.next_at``, kept
    by crm.pairings.next_moves; the same as LEAD(at) over the pair's history in id order) are kept per
    branch in the dwell facts (crm.stats.facts), so the moves of the period are one range of a
    covering index. A pair's latest move (no next move yet) has none. The middle value(s) are picked
    here rather than by ROW_NUMBER()/COUNT() windows: the same numbers (the mean of the two middle
    durations for an even count, as SQL's avg); measured on a branch's year at 100,000 members
    (15,000 moves), the windows' sort cost 45-80 ms of SQLite CPU against ~10 ms to read the
    durations and ~4 ms to sort them here (a whole-day histogram first, to read only the middle
    buckets, cost more: grouping 15,000 rows is dearer than reading them)."""
    stmt = select(PairingFact.stage, PairingFact.value).where(*_facts(facts.DWELL, period, branch_id))
    by_stage: dict[str, list] = {}
    # Executed as Core on the session's connection: ~16,000 rows, for which the ORM's row handling cost
    # more than reading them (plain columns, no entities to load).
    for stage, days in db.session.connection().execute(stmt):
        by_stage.setdefault(stage, []).append(days)
    medians = {}
    for stage, days in by_stage.items():
        days.sort()
        low, high = days[(len(days) + 1) // 2 - 1], days[(len(days) + 2) // 2 - 1]
        medians[stage] = round(float(low if low == high else (low + high) / 2), 1)
    return medians


@dataclass
class MonthRow:
    month: str
    proposed: int
    introduced: int
    married: int


def monthly_trends(period: Period, branch_id: int | None) -> list[MonthRow]:
    """Per month: proposals, first introductions and marriages (one statement, counted as the
    definitions count them: a pair's first move into a stage, from ``pairing_stage_firsts``).

    Proposed: the pair's first history row (its proposal); introduced: its first move into
    introduced or later; married: its move into married (final, so the first)."""
    month = year_month(PairingFact.at)
    shown = {Stage.PROPOSED.value: "proposed", Stage.INTRODUCED.value: "introduced", Stage.MARRIED.value: "married"}
    stmt = (select(month.label("m"), PairingFact.stage, func.count())
            .where(*_facts(facts.FIRST, period, branch_id)).group_by(month, PairingFact.stage))
    found: dict[str, dict[str, int]] = {}
    for m, stage, n in db.session.execute(stmt).all():
        found.setdefault(m, {})[shown[getattr(stage, "value", stage)]] = n
    rows, cursor = [], period.start.replace(day=1)
    while cursor <= period.end:
        key = cursor.strftime("%Y-%m")
        rows.append(MonthRow(key, **{k: found.get(key, {}).get(k, 0) for k in ("proposed", "introduced", "married")}))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return rows


def close_reasons(period: Period, branch_id: int | None) -> list[tuple]:
    """(reason, stage closed from, pairs) for closes in the period; a pair closed twice for the same
    reason counts once."""
    pairs = func.count(func.distinct(PairingFact.pairing_id))
    stmt = (select(PairingFact.stage, pairs).where(*_facts(facts.CLOSE, period, branch_id))
            .group_by(PairingFact.stage).order_by(pairs.desc()))
    return [(PairingCloseReason(reason) if reason is not None else None, n)
            for reason, n in db.session.execute(stmt).all()]


def _staff(branch_id: int | None, role: Role = Role.VOLUNTEER):
    stmt = select(User).where(User.roles.op("&")(role.value) != 0, User.is_active_user.is_(True))
    return stmt.where(User.branch_id == branch_id) if branch_id is not None else stmt


@dataclass
class VolunteerRow:
    user_id: int
    name: str
    caseload: int
    capacity: int | None
    overdue_followups: int
    unanswered_consents: int

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.caseload > self.capacity

    @property
    def load_share(self) -> float | None:
        return (self.caseload / self.capacity) if self.capacity else None


def volunteers(branch_id: int | None) -> list[VolunteerRow]:
    """Each active volunteer: open caseload, capacity, overdue follow-ups, overdue consent requests
    of their members (crm.pairings.services.overdue_consent_clause). One statement."""
    from crm.followups.models import FollowUp
    from crm.pairings.services import overdue_consent_clause

    caseload = (select(func.count(Member.id)).where(Member.owner_id == User.id, Member.status != MemberStatus.CLOSED)
                .scalar_subquery())
    overdue = (select(func.count(FollowUp.id)).where(FollowUp.assignee_id == User.id, FollowUp.done_at.is_(None),
                                                     FollowUp.due_on < today()).scalar_subquery())
    m = aliased(Member)
    # The consent's own copy of the pairing's stage: most unanswered consents belong to pairings closed since,
    # and reading each one's pairing to rule it out was most of this statement (crm.pairings.consent_stage).
    consents = (select(func.count(PairingConsent.id)).join(m, m.id == PairingConsent.member_id)
                .where(m.owner_id == User.id, overdue_consent_clause(PairingConsent, None)).scalar_subquery())
    stmt = (_staff(branch_id).with_only_columns(User.id, User.display_name, caseload, User.max_caseload,
                                                 overdue, consents)
            .order_by(User.display_name, User.id))
    return [VolunteerRow(*row) for row in db.session.execute(stmt).all()]


@dataclass
class NeglectedRow:
    member_id: int
    name: str
    owner: str | None
    since: object  # last activity (datetime) or None


def neglect_days() -> int:
    return current_app.config["STATS_NEGLECT_DAYS"]


def neglected_members(branch_id: int | None, limit: int = 20) -> tuple[int, list[NeglectedRow]]:
    """Active members with no case note, proposed introduction or follow-up in the last N days
    (STATS_NEGLECT_DAYS): nothing created, done or due since the cut-off. Returns (how many, the first
    ``limit`` longest waiting) in one statement, read from when each member was last attended to
    (crm.members.attention: ``attended_at`` and ``followup_due_on``) through ix_members_attention."""
    cutoff = now_utc() - timedelta(days=neglect_days())
    cutoff_day = today() - timedelta(days=neglect_days())
    conditions = [
        Member.status == MemberStatus.ACTIVE,
        or_(Member.attended_at.is_(None), Member.attended_at < cutoff),
        or_(Member.followup_due_on.is_(None), Member.followup_due_on < cutoff_day),
    ]
    if branch_id is not None:
        conditions.append(Member.branch_id == branch_id)
    # The inner query reads the index alone and counts every neglected member before the LIMIT; the wide
    # members rows and the owners are read for the shown rows only.
    found = select(Member.id.label("id"), Member.last_note_at.label("last_note"),
                   func.count().over().label("total")).where(*conditions).subquery()
    longest = (found.c.last_note.is_not(None), found.c.last_note, found.c.id)
    top = select(found).order_by(*longest).limit(limit).subquery()
    named, owner = aliased(Member), aliased(User)
    stmt = (select(top.c.id, named.name, owner.display_name, top.c.last_note, top.c.total)
            .join(named, named.id == top.c.id).outerjoin(owner, owner.id == named.owner_id)
            .order_by(top.c.last_note.is_not(None), top.c.last_note, top.c.id))
    rows = db.session.execute(stmt).all()
    total = rows[0][4] if rows else 0
    return total, [NeglectedRow(r[0], r[1], r[2], r[3]) for r in rows]


def open_risk_alerts(branch_id: int | None) -> list[tuple]:
    """High-risk counselling flags not yet acknowledged: (alert id, member id, raised at)."""
    from crm.counselling.models import RiskAlert
    stmt = (select(RiskAlert.id, RiskAlert.member_id, RiskAlert.raised_at)
            .where(RiskAlert.acknowledged_at.is_(None)).order_by(RiskAlert.raised_at))
    if branch_id is not None:
        stmt = stmt.where(RiskAlert.branch_id == branch_id)
    return list(db.session.execute(stmt).all())


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


__all__ = ["funnel", "monthly_trends", "close_reasons", "volunteers", "neglected_members", "open_risk_alerts",
           "ConsentAnswer"]
