"""THE definitions of every published figure: what is counted, in words and as one SQL query.

Every counter takes a :class:`Period` (dates, both ends included) and a branch id (``None``: the
whole union) and counts each pair or person once:

- A *person* is a member's keyed ID-number hash (``members.id_hash``), or the case file when no ID
  number is on file. Someone registered at two branches is one person union-wide, and counts in
  each branch that holds a case file for them.
- A *pair* is a ``pairings`` row (the database keeps one row per two members). A pair belongs to
  the branches of both its members: it counts once in each, and once union-wide.
- "Reached a stage" reads the stage history (``stage_changes``), not the stage a pair is at now: a
  pair counts in the period in which it FIRST reached that stage or a later one (forward moves may
  skip stages). Pairs that went back and forth, were closed and reopened, count once. That first
  moment is kept per pair and stage in ``pairing_stage_firsts`` (crm.pairings.firsts, derived from
  the history by every writer of it; a test compares it with a recomputation), which the counters read.

Nothing else in the application may count these figures its own way: pages, exports and the
annual report all call :func:`figures` / :func:`count`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, func, literal_column, or_, select
from sqlalchemy.orm import aliased

from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Member, MemberStatus, Note
from crm.pairings.models import Pairing, PairingStageFirst, Stage, StageChange

#: Days a pair must stay at ``dating`` or later, without being closed, to count as "dating ≥ 1 month".
DATING_MONTH_DAYS = 30

_ORDER = [Stage.PROPOSED, Stage.AWAITING_CONSENT, Stage.INTRODUCED, Stage.FIRST_MEETING, Stage.DATING,
          Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED]


def at_or_after(stage: Stage) -> list[Stage]:
    """``stage`` and every later stage of the forward order (never ``closed``)."""
    return _ORDER[_ORDER.index(stage):]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def person_key(member=Member):
    return func.coalesce(member.id_hash, literal_column("'#'") + cast(member.id, String))


def _branch_members(branch_id: int):
    return select(Member.id).where(Member.branch_id == branch_id)


def pairing_in_branch(pairing_id, branch_id: int | None):
    """A condition: the pairing ``pairing_id`` has a member in the branch (true when branch is None).

    A non-correlated ``IN (SELECT ...)``: the database builds the branch's pairing ids once (from the
    member indexes) and seeks the history by ``pairing_id`` for each, instead of testing every row."""
    if branch_id is None:
        return literal_column("1") == 1
    low = select(Pairing.id).join(Member, Member.id == Pairing.member_low_id).where(Member.branch_id == branch_id)
    high = select(Pairing.id).join(Member, Member.id == Pairing.member_high_id).where(Member.branch_id == branch_id)
    return pairing_id.in_(low.union(high))


def _in(column, period: Period):
    return and_(column >= period.since, column < period.until)


# --- the queries (each returns a SELECT of one integer) ------------------------------------------

def members_served(period: Period, branch_id: int | None):
    sc = aliased(StageChange)
    p = aliased(Pairing)
    worked_on = or_(
        exists(select(Note.id).where(Note.member_id == Member.id, _in(Note.created_at, period),
                                     Note.deleted_at.is_(None))),
        exists(select(sc.id).join(p, p.id == sc.pairing_id)
               .where(or_(p.member_low_id == Member.id, p.member_high_id == Member.id), _in(sc.at, period))),
    )
    stmt = select(func.count(func.distinct(person_key()))).where(worked_on)
    return stmt.where(Member.branch_id == branch_id) if branch_id is not None else stmt


def active_members(period: Period, branch_id: int | None):
    stmt = select(func.count(func.distinct(person_key()))).where(
        Member.status == MemberStatus.ACTIVE, Member.created_at < period.until)
    return stmt.where(Member.branch_id == branch_id) if branch_id is not None else stmt


def pairings_proposed(period: Period, branch_id: int | None):
    return select(func.count(Pairing.id)).where(_in(Pairing.created_at, period),
                                                pairing_in_branch(Pairing.id, branch_id))


def first_reached(stages: list[Stage], period: Period, branch_id: int | None):
    """Pairs whose first move into any of ``stages`` happened in the period.

    ``stages`` is a stage and every later one (:func:`at_or_after`). The pair's first move into any
    of them is its ``pairing_stage_firsts`` row for the first of them (crm.pairings.firsts keeps that
    table from the same history, ``stage_changes``): one range of the (stage, reached_at) index."""
    if list(stages) != at_or_after(stages[0]):
        raise ValueError("first_reached counts a stage and every later one")
    return select(func.count()).select_from(PairingStageFirst).where(
        PairingStageFirst.stage == stages[0], _in(PairingStageFirst.reached_at, period),
        pairing_in_branch(PairingStageFirst.pairing_id, branch_id))


def introductions(period, branch_id):
    return first_reached(at_or_after(Stage.INTRODUCED), period, branch_id)


def relationships(period, branch_id):
    return first_reached(at_or_after(Stage.RELATIONSHIP), period, branch_id)


def engagements(period, branch_id):
    return first_reached(at_or_after(Stage.ENGAGED), period, branch_id)


def marriages(period, branch_id):
    return first_reached([Stage.MARRIED], period, branch_id)


def dating_a_month(period: Period, branch_id: int | None):
    """Pairs that completed their first DATING_MONTH_DAYS at ``dating`` or later in the period.

    An *entry* is a move into dating-or-later from a stage before it, or a reopening into it. An
    entry qualifies when no close follows within the month; the pair counts when its first
    qualifying month ends inside the period (and before now).
    """
    zone = at_or_after(Stage.DATING)
    from crm.stats.sql import days_between
    close = aliased(StageChange)
    entry = aliased(StageChange)
    qualifying = (
        select(entry.pairing_id.label("pairing_id"), func.min(entry.at).label("first_at"))
        .where(entry.to_stage.in_(zone), or_(entry.from_stage.is_(None), entry.from_stage.not_in(zone)),
               ~exists(select(close.id).where(close.pairing_id == entry.pairing_id,
                                              close.to_stage == Stage.CLOSED, close.at >= entry.at,
                                              days_between(entry.at, close.at) < DATING_MONTH_DAYS)))
        .group_by(entry.pairing_id)
        .subquery())
    month = timedelta(days=DATING_MONTH_DAYS)
    latest = min(period.until - month, now_utc() - month)
    return select(func.count(qualifying.c.pairing_id)).where(
        qualifying.c.first_at >= period.since - month, qualifying.c.first_at < latest,
        pairing_in_branch(qualifying.c.pairing_id, branch_id))


def counselling_sessions(period: Period, branch_id: int | None):
    from crm.counselling.models import CounsellingSession, Referral
    stmt = (select(func.count(CounsellingSession.id))
            .join(Referral, Referral.id == CounsellingSession.referral_id)
            .where(CounsellingSession.held_on >= period.start, CounsellingSession.held_on <= period.end))
    return stmt.where(Referral.branch_id == branch_id) if branch_id is not None else stmt


# --- the table of counters ------------------------------------------------------------------------

@dataclass(frozen=True)
class Counter:
    key: str
    label: object  # lazy string
    definition: object  # lazy string: what is counted, in words
    query: Callable


COUNTERS: list[Counter] = [
    Counter("members_served", _l("Members served"), _l(
        "People with a case file in the branch who had a case note written, or an introduction move, in "
        "the period. Each person counts once, even with case files at two branches."), members_served),
    Counter("active_members", _l("Active members"), _l(
        "People whose case file is active today (verified, consent on file, not paused, not in a "
        "relationship, not closed) and was opened before the end of the period. A count of today's "
        "files, not of the past: the period only excludes files opened after it."), active_members),
    Counter("pairings_proposed", _l("Pairings proposed"), _l(
        "Introductions proposed in the period, by anyone and from any source. Each pair of members "
        "counts once; a pair with members in two branches counts in both branches and once in total."),
        pairings_proposed),
    Counter("introductions", _l("Introductions made"), _l(
        "Pairs that reached “introduced” (both members said yes) or a later stage for the first time in "
        "the period. A pair that was closed and reopened counts once."), introductions),
    Counter("dating_a_month", _l("Dating for a month or more"), _l(
        "Pairs that stayed at “dating” or a later stage for %(days)d days without being closed; a pair "
        "counts once, in the period in which its first such month ended.", days=DATING_MONTH_DAYS),
        dating_a_month),
    Counter("relationships", _l("Relationships"), _l(
        "Pairs that reached “in a relationship” (牵手成功) or a later stage for the first time in the "
        "period."), relationships),
    Counter("engagements", _l("Engagements"), _l(
        "Pairs that reached “engaged” or “married” for the first time in the period."), engagements),
    Counter("marriages", _l("Marriages"), _l(
        "Pairs that reached “married” in the period. Marriage is final: each couple counts once."),
        marriages),
    Counter("counselling_sessions", _l("Counselling sessions"), _l(
        "Counselling sessions held in the period (by session date) on referrals of the branch. Each "
        "session counts once; what was said is never read for statistics."), counselling_sessions),
]

BY_KEY = {c.key: c for c in COUNTERS}


def _event_counters() -> list[Counter]:
    """Events held and attendances, once the events package exists."""
    try:
        from crm.stats import event_counters
    except ImportError:  # pragma: no cover - the events area is optional
        return []
    return event_counters.COUNTERS


@dataclass(frozen=True)
class Figure:
    counter: Counter
    value: int


def all_counters() -> list[Counter]:
    return COUNTERS + _event_counters()


def count(key: str, period: Period, branch_id: int | None) -> int:
    counter = {c.key: c for c in all_counters()}[key]
    return db.session.scalar(counter.query(period, branch_id)) or 0


def figures(period: Period, branch_id: int | None) -> list[Figure]:
    """Every counter for the period and branch, in ONE statement."""
    counters = all_counters()
    row = db.session.execute(select(*[c.query(period, branch_id).scalar_subquery().label(c.key)
                                      for c in counters])).one()
    return [Figure(c, int(v or 0)) for c, v in zip(counters, row, strict=True)]
