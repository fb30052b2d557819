"""The supervisor dashboard's reads: a fixed number of grouped statements, whatever the data size.

Every function here issues ONE statement. Aggregates are computed in SQL; the per-member checks
(neglected members, caseloads) are correlated subqueries that seek an index per row.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import String, case, cast, exists, func, or_, select
from sqlalchemy.orm import aliased

from crm.auth.models import Role, User
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members.models import Member, MemberStatus, Note
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, PairingStageFirst, Stage, StageChange
from crm.stats.definitions import _ORDER, Period, pairing_in_branch
from crm.stats.sql import days_between, year_month


def _rank_case(column):
    return case({s.value: i for i, s in enumerate(_ORDER)}, value=column, else_=-1)


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    conversion: float | None  # share of the previous step that reached this one (0..1)
    median_days: float | None  # median time spent at this stage before the next move


def funnel(period: Period, branch_id: int | None) -> list[FunnelStep]:
    """Pairs proposed in the period (a cohort): how many ever reached each stage (two statements).

    A pair reached a stage or a later one exactly when it has that stage's ``pairing_stage_firsts``
    row (crm.pairings.firsts), so each step is a count of rows; pairs without a history row (cannot
    happen through the pipeline) count nowhere."""
    stmt = (select(PairingStageFirst.stage, func.count())
            .join(Pairing, Pairing.id == PairingStageFirst.pairing_id)
            .where(Pairing.created_at >= period.since, Pairing.created_at < period.until,
                   pairing_in_branch(Pairing.id, branch_id))
            .group_by(PairingStageFirst.stage))
    counts = {getattr(stage, "value", stage): n for stage, n in db.session.execute(stmt).all()}
    medians = median_days_in_stage(period, branch_id)
    steps, previous = [], None
    for stage in _ORDER:
        reached = counts.get(stage.value, 0)
        conversion = (reached / previous) if previous else None
        steps.append(FunnelStep(stage, reached, conversion, medians.get(stage.value)))
        previous = reached
    return steps


def median_days_in_stage(period: Period, branch_id: int | None) -> dict[str, float]:
    """Median days between entering a stage (in the period) and the pair's next move, per stage.

    One statement. The next move of each history row is stored in ``stage_changes.next_at`` (kept by
    crm.pairings.next_moves; the same as LEAD(at) over the pair's history in id order), so the moves
    of the period are one range of the covering index (at, to_stage, next_at, pairing_id). A pair's
    latest move (no next move yet) is left out. The middle value(s) are picked here rather than by
    ROW_NUMBER()/COUNT() windows: the same numbers (the mean of the two middle durations for an even
    count, as SQL's avg), but sorting ~250,000 floats a year union-wide costs a third of the windows'
    temporary B-tree."""
    stmt = (select(cast(StageChange.to_stage, String), days_between(StageChange.at, StageChange.next_at))
            .where(StageChange.at >= period.since, StageChange.at < period.until,
                   StageChange.next_at.is_not(None), pairing_in_branch(StageChange.pairing_id, branch_id)))
    by_stage: dict[str, list] = {}
    for stage, days in db.session.execute(stmt):
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
    month = year_month(PairingStageFirst.reached_at)
    shown = {Stage.PROPOSED.value: "proposed", Stage.INTRODUCED.value: "introduced", Stage.MARRIED.value: "married"}
    stmt = (select(month.label("m"), PairingStageFirst.stage, func.count())
            .where(PairingStageFirst.stage.in_([Stage.PROPOSED, Stage.INTRODUCED, Stage.MARRIED]),
                   PairingStageFirst.reached_at >= period.since, PairingStageFirst.reached_at < period.until,
                   pairing_in_branch(PairingStageFirst.pairing_id, branch_id))
            .group_by(month, PairingStageFirst.stage))
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
    stmt = (select(StageChange.close_reason, func.count(func.distinct(StageChange.pairing_id)))
            .where(StageChange.to_stage == Stage.CLOSED, StageChange.at >= period.since,
                   StageChange.at < period.until, pairing_in_branch(StageChange.pairing_id, branch_id))
            .group_by(StageChange.close_reason).order_by(func.count(func.distinct(StageChange.pairing_id)).desc()))
    return list(db.session.execute(stmt).all())


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
    consents = (select(func.count(PairingConsent.id)).join(Pairing, Pairing.id == PairingConsent.pairing_id)
                .join(m, m.id == PairingConsent.member_id)
                .where(m.owner_id == User.id, overdue_consent_clause(PairingConsent, Pairing)).scalar_subquery())
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
    (STATS_NEGLECT_DAYS). Returns (how many, the first ``limit`` longest waiting) in one statement."""
    from crm.followups.models import FollowUp

    cutoff = now_utc() - timedelta(days=neglect_days())
    cutoff_day = today() - timedelta(days=neglect_days())
    last_note = (select(func.max(Note.created_at)).where(Note.member_id == Member.id, Note.deleted_at.is_(None))
                 .scalar_subquery())
    p = aliased(Pairing)
    conditions = [
        Member.status == MemberStatus.ACTIVE,
        ~exists(select(Note.id).where(Note.member_id == Member.id, Note.created_at >= cutoff,
                                      Note.deleted_at.is_(None))),
        ~exists(select(p.id).where(p.member_low_id == Member.id, p.created_at >= cutoff)),
        ~exists(select(p.id).where(p.member_high_id == Member.id, p.created_at >= cutoff)),
        ~exists(select(FollowUp.id).where(FollowUp.member_id == Member.id,
                                          or_(FollowUp.created_at >= cutoff, FollowUp.due_on >= cutoff_day,
                                              FollowUp.done_at >= cutoff))),
    ]
    if branch_id is not None:
        conditions.append(Member.branch_id == branch_id)
    owner = aliased(User)
    stmt = (select(Member.id, Member.name, owner.display_name, last_note, func.count().over())
            .outerjoin(owner, owner.id == Member.owner_id)
            .where(*conditions).order_by(last_note.is_not(None), last_note, Member.id).limit(limit))
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
