"""Reading pairings for pages: the detail, the board, a member's pairings, candidates to propose.

Also what each side of a pairing looks like to a viewer (``sides``): the viewer's own member,
or the other member as a projection (crm.members.projections) and never as a Member.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, case, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, selectinload

from crm.auth import policy
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members.models import Gender, Member, MemberStatus
from crm.members.projections import CandidateView, SharedProfile, WithheldView
from crm.pairings import services
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, Source, Stage, StageChange

CANDIDATES_SHOWN = 12
BOARD_FIRST_PAGE = 20  # cards per column on the board; "show more" loads the next ones
BOARD_MORE_PAGE = 50
BOARD_MAX_START = 1_000_000  # beyond any column; a larger start is a 404, not a huge OFFSET
#: The longest "in this stage for at least" filter: ten years, longer than any pairing has stood anywhere. The
#: form refuses more; the query clamps to it, since a date that many days back overflows (datetime stops at year 1).
BOARD_MAX_DAYS = 3650


def pairing_page(pairing_id: int) -> Pairing | None:
    return db.session.scalars(
        select(Pairing).options(
            joinedload(Pairing.member_a).joinedload(Member.owner),
            joinedload(Pairing.member_b).joinedload(Member.owner),
            selectinload(Pairing.consents), selectinload(Pairing.history).joinedload(StageChange.by))
        .where(Pairing.id == pairing_id)).first()


@dataclass
class Side:
    """One member of a pairing as a viewer may see them."""

    kind: str  # "own" (full case file open to the viewer), "shared", "candidate" or "withheld" (no sharing consent)
    member: Member | None  # only for "own"
    view: CandidateView | SharedProfile | WithheldView
    consent: PairingConsent
    volunteer_name: str
    can_record: bool
    overdue: bool
    asks_answer: bool = False  # the viewer may record this side's answer now (the page shows its form)

    @property
    def label(self) -> str:
        return self.member.name if self.member is not None else self.view.summary


def side(user, pairing: Pairing, member: Member) -> Side:
    consent = pairing.consent_for(member)
    if policy.sees_identity(user, member):
        kind, shown, view = "own", member, CandidateView.from_member(member)
    elif not policy.sees_profile(user, member):  # consent to sharing withdrawn: nothing of the profile
        kind, shown, view = "withheld", None, WithheldView(member.gender)
    elif pairing.both_consented:
        kind, shown, view = "shared", None, SharedProfile.from_member(member, consent)
    else:
        kind, shown, view = "candidate", None, CandidateView.from_member(member)
    can_record = policy.can_record_consent(user, pairing, member)
    return Side(kind=kind, member=shown, view=view, consent=consent,
                volunteer_name=member.owner.display_name if member.owner else "",
                can_record=can_record, overdue=services.consent_is_overdue(pairing, consent),
                asks_answer=(can_record and consent.answer is ConsentAnswer.PENDING
                             and pairing.stage in (Stage.PROPOSED, Stage.AWAITING_CONSENT)))


@dataclass
class CardSide:
    """One member on a board card: only what the card shows (``Side.label`` and the consent), without building
    the full projections per card (a branch board has 140 cards)."""

    label: str
    consent: PairingConsent
    overdue: bool


def card_side(user, pairing: Pairing, member: Member, genders: dict | None = None) -> CardSide:
    """The same label as ``side(...).label``: the name for the viewer's own members, else the projection's
    summary (crm.members.projections): the shared name or courtesy name, or gender, then age and district.
    ``genders``: the gender labels translated once per page (``Gender.label`` builds its table per call)."""
    consent = pairing.consent_for(member)
    district = f"{member.work_city}{member.work_district}"
    if policy.sees_identity(user, member):
        label = member.name
    elif not policy.sees_profile(user, member):
        label = WithheldView(member.gender).summary
    elif pairing.both_consented:
        label = f"{member.name if consent.share_full_name else member.courtesy_name} · {member.age} · {district}"
    else:
        gender = genders[member.gender] if genders else member.gender.label
        label = f"{gender} · {member.age} · {district}"
    return CardSide(label, consent, services.consent_is_overdue(pairing, consent))


#: The member columns a board card reads (card_side, pipeline.allowed_moves): loading whole members for 140
#: cards cost more than the query.
_CARD_MEMBER_COLUMNS = ("id", "name", "gender", "birth_date", "work_city", "work_district", "branch_id",
                        "owner_id", "status", "processing_consent", "sharing_consent")
#: The consent columns a card reads (card_side, services.consent_is_overdue, Pairing.both_consented); the first
#: is never NULL on a row that exists (the outer join gives NULLs for a missing side).
_CARD_CONSENT_COLUMNS = ("member_id", "answer", "asked_at", "share_full_name")


def sides(user, pairing: Pairing) -> list[Side]:
    """The viewer's own side first."""
    both = [side(user, pairing, m) for m in pairing.members]
    return sorted(both, key=lambda s: s.kind != "own")


@dataclass
class BoardFilters:
    volunteer_id: int | None = None
    branch_id: int | None = None
    source: Source | None = None
    min_days: int | None = None
    show_closed: bool = False


@dataclass
class Column:
    stage: Stage
    total: int
    pairings: list[Pairing]
    start: int = 0  # how many cards of this column come before these (the "show more" pages)

    @property
    def more(self) -> int:
        """Cards of this column after these."""
        return max(0, self.total - self.start - len(self.pairings))


def board_stages(f: BoardFilters) -> list[Stage]:
    return [s for s in Stage if f.show_closed or s not in (Stage.CLOSED, Stage.MARRIED)]


def board(user, f: BoardFilters, stage: Stage | None = None, start: int = 0, limit: int | None = None) -> list[Column]:
    """Columns of the board (or the one column ``stage``): per stage its total and ``limit`` pairings from
    ``start`` (longest in the stage first), with both members and their owners.

    Two shapes, chosen by how many pairings the viewer's scope holds (bench/FINDINGS.md, "Pipeline board"):
    a volunteer's board (their own, or a supervisor looking at one volunteer) starts from the volunteer's
    members and numbers its few dozen pairings in one windowed statement. A branch-wide or union-wide board
    would window over ~20,000 pairings that way, so it reads each column's first cards by walking the
    (stage, stage_changed_at) index (one UNION ALL statement, LIMIT per column) and takes the totals from the
    kept counters (crm.pairings.stage_counts), counting live only under a source or days filter.
    Statements: 2 (narrow) or 3 (wide), the last reading the cards as rows with their members and both
    consents (``_cards``)."""
    stages = [stage] if stage is not None else board_stages(f)
    limit = limit or BOARD_FIRST_PAGE
    low, high = _SCOPE_LOW, _SCOPE_HIGH
    visible = policy.visible_pairings_clause(user, low, high)
    conditions = [visible, *_board_conditions(f, low, high)]
    in_columns = Pairing.stage.in_(stages)
    if _narrow(user, f):
        ids, totals = _narrow_cards(low, high, [*conditions, in_columns], _driving_scope(user, f), start, limit)
    else:
        ids = _wide_cards(low, high, conditions, stages, start, limit)
        totals = _wide_totals(user, f, low, high, [*conditions, in_columns])
    columns = {s: Column(s, totals.get(s, 0), [], start) for s in stages}
    if not ids:
        return list(columns.values())
    for card in _cards(ids):
        if card.stage in columns:  # moved since the ids were read: left out rather than misplaced
            columns[card.stage].pairings.append(card)
    return list(columns.values())


# Made once: a fresh aliased(Member) per request cost a fifth of a volunteer's board (every column proxy of the
# alias is built again on first use); aliases are immutable, so requests can share them.
_SCOPE_LOW, _SCOPE_HIGH = aliased(Member, name="low"), aliased(Member, name="high")
_CARD_LOW, _CARD_HIGH = aliased(Member, name="card_low"), aliased(Member, name="card_high")
_SCOPE_SIDE = aliased(Pairing, name="side")  # _driving_scope's pairings, apart from the board's own
_CONSENT_LOW = aliased(PairingConsent, name="consent_low")
_CONSENT_HIGH = aliased(PairingConsent, name="consent_high")


class CardMember:
    """A board card's member: the columns the card and its checks read (card_side, crm.auth.policy,
    pipeline.refusal_for) as plain attributes, with Member's own ``age`` and ``courtesy_name``."""

    __slots__ = _CARD_MEMBER_COLUMNS
    age = Member.age
    courtesy_name = Member.courtesy_name
    shares_profile = Member.shares_profile

    def __init__(self, values):
        for name, value in zip(_CARD_MEMBER_COLUMNS, values, strict=True):
            setattr(self, name, value)


class CardConsent:
    """One side's answer as a card shows it."""

    __slots__ = _CARD_CONSENT_COLUMNS

    def __init__(self, values):
        for name, value in zip(_CARD_CONSENT_COLUMNS, values, strict=True):
            setattr(self, name, value)


class ClosingMove:
    """The move that closed a pairing: all of its history that pipeline.stage_before_close reads."""

    __slots__ = ("from_stage",)
    to_stage = Stage.CLOSED

    def __init__(self, from_stage):
        self.from_stage = from_stage


class CardPairing:
    """A pairing as the board reads it: one row of one statement (members and both consents joined in), not
    ORM entities. At 140 cards, loading Pairing, Member and PairingConsent entities (identity map, collections,
    the consents' selectin statement) cost more CPU than the SQL. It answers what the card, crm.auth.policy
    and pipeline.allowed_moves ask of a Pairing; ``history`` holds only the closing move of a closed pairing."""

    __slots__ = ("id", "version", "stage", "stage_changed_at", "member_low_id", "member_high_id",
                 "member_a", "member_b", "consents", "history")
    reference = Pairing.reference
    members = Pairing.members
    both_consented = Pairing.both_consented
    consent_for = Pairing.consent_for
    involves = Pairing.involves
    other = Pairing.other


def _cards_statement():
    """The statement of ``_cards``, built once (only the ids vary): building and coercing its ~30 columns per
    request cost more CPU than running it."""
    return (_card_columns().where(Pairing.id.in_(bindparam("ids", expanding=True)))
            .order_by(Pairing.stage_changed_at, Pairing.id))


def _card_columns():
    """The columns of a card row (``_card_rows``): the pairing, both members and both consents, without WHERE."""
    low, high, c_low, c_high = _CARD_LOW, _CARD_HIGH, _CONSENT_LOW, _CONSENT_HIGH
    closing = (select(StageChange.from_stage).where(StageChange.pairing_id == Pairing.id,
                                                    StageChange.to_stage == Stage.CLOSED)
               .order_by(StageChange.id.desc()).limit(1).correlate(Pairing).scalar_subquery())
    return (select(Pairing.id, Pairing.version, Pairing.stage, Pairing.stage_changed_at, Pairing.member_low_id,
                   Pairing.member_high_id, case((Pairing.stage == Stage.CLOSED, closing)),
                   *(getattr(low, c) for c in _CARD_MEMBER_COLUMNS),
                   *(getattr(high, c) for c in _CARD_MEMBER_COLUMNS),
                   *(getattr(c_low, c) for c in _CARD_CONSENT_COLUMNS),
                   *(getattr(c_high, c) for c in _CARD_CONSENT_COLUMNS))
            .join(low, low.id == Pairing.member_low_id).join(high, high.id == Pairing.member_high_id)
            .outerjoin(c_low, and_(c_low.pairing_id == Pairing.id, c_low.member_id == Pairing.member_low_id))
            .outerjoin(c_high, and_(c_high.pairing_id == Pairing.id, c_high.member_id == Pairing.member_high_id)))


_CARDS_STATEMENT = _cards_statement()


def _cards(ids: list[int]) -> list[CardPairing]:
    """The board's cards with ``ids``, in column order: one statement, rows of columns."""
    return _card_rows(_CARDS_STATEMENT, {"ids": ids})


def _card_rows(statement, params: dict) -> list[CardPairing]:
    """The rows of ``statement`` (``_card_columns`` with a WHERE) as CardPairing objects."""
    n, k = len(_CARD_MEMBER_COLUMNS), len(_CARD_CONSENT_COLUMNS)
    cards = []
    for row in db.session.execute(statement, params):
        card = CardPairing()
        (card.id, card.version, card.stage, card.stage_changed_at, card.member_low_id, card.member_high_id,
         before_close) = row[:7]
        card.member_a, card.member_b = CardMember(row[7:7 + n]), CardMember(row[7 + n:7 + 2 * n])
        at = 7 + 2 * n
        card.consents = tuple(CardConsent(row[i:i + k]) for i in (at, at + k) if row[i] is not None)
        card.history = (ClosingMove(before_close),) if card.stage is Stage.CLOSED else ()
        cards.append(card)
    return cards


def _narrow(user, f: BoardFilters) -> bool:
    """One volunteer's pairings: a few dozen, numbered by a window in one statement."""
    from crm.auth.models import Role

    return bool(f.volunteer_id) or (user.has_role(Role.VOLUNTEER) and not user.has_role(Role.SUPERVISOR)
                                    and not user.has_role(Role.ADMIN))


def _narrow_cards(low, high, conditions, scope, start: int, limit: int):
    order = (Pairing.stage_changed_at, Pairing.id)
    ranked = (select(Pairing.id.label("id"), Pairing.stage.label("stage"),
                     func.row_number().over(partition_by=Pairing.stage, order_by=order).label("rank"),
                     func.count().over(partition_by=Pairing.stage).label("total"))
              .join(low, Pairing.member_a).join(high, Pairing.member_b)
              .where(*conditions, *scope).subquery())
    # Every column's total, also of a column whose cards are all before ``start``: rank 1 rows carry it.
    rows = db.session.execute(select(ranked.c.id, ranked.c.stage, ranked.c.rank, ranked.c.total).where(
        or_(ranked.c.rank == 1, and_(ranked.c.rank > start, ranked.c.rank <= start + limit)))).all()
    totals = {row.stage: row.total for row in rows}
    return [row.id for row in rows if start < row.rank <= start + limit], totals


def _wide_cards(low, high, conditions, stages, start: int, limit: int) -> list[int]:
    """Ids of each column's cards: per stage an ordered walk of ix_pairings_stage with LIMIT, in one statement.

    Each part names its stage once (``stage = s``, no IN list of the shown stages beside it): PostgreSQL
    multiplies the selectivities of conditions on the same column, took a column of 4,000 pairings for
    100, and read and sorted every one of them instead of walking the index until 20 were visible (a
    branch board: ~100 ms of SQL against ~15)."""
    parts = []
    for s in stages:
        part = (select(Pairing.id.label("id")).join(low, Pairing.member_a).join(high, Pairing.member_b)
                .where(*conditions, Pairing.stage == s)
                .order_by(Pairing.stage_changed_at, Pairing.id).limit(limit).offset(start or None).subquery())
        parts.append(select(part.c.id))
    return list(db.session.scalars(union_all(*parts) if len(parts) > 1 else parts[0]))


def _wide_totals(user, f: BoardFilters, low, high, conditions) -> dict:
    from crm.pairings import stage_counts

    counted, branch_id = _counted_scope(user, f)
    if counted:
        return stage_counts.for_branch(branch_id)
    return dict(db.session.execute(
        select(Pairing.stage, func.count()).join(low, Pairing.member_a).join(high, Pairing.member_b)
        .where(*conditions, *_driving_scope(user, f)).group_by(Pairing.stage)).all())


def _counted_scope(user, f: BoardFilters) -> tuple[bool, int | None]:
    """Whether the kept counters answer this board's totals, and for which branch (None: union-wide). They
    count whole branches by stage, so not under a source, days or volunteer filter."""
    from crm.auth.models import Role

    if f.source or f.min_days or f.volunteer_id:
        return False, None
    if user.has_role(Role.ADMIN):
        return True, f.branch_id
    if (user.has_role(Role.SUPERVISOR) and not user.has_role(Role.VOLUNTEER)
            and f.branch_id in (None, user.branch_id)):
        return True, user.branch_id
    return False, None


def _driving_scope(user, f: BoardFilters) -> list:
    """The narrowest set of members the board is about, as the ids of their pairings read through the
    pairing's own indexed member columns. It repeats a condition already there (visibility or a filter), so
    the rows are the same, but SQLite can start from the volunteer's or branch's members instead of scanning
    every open pairing by stage (a volunteer's board: 300-700 ms at 200,000 pairings before, under 5 ms after;
    bench/RESULTS.md)."""
    from crm.auth.models import Role

    if f.volunteer_id:
        scope = Member.owner_id == f.volunteer_id
    elif user.has_role(Role.VOLUNTEER) and not user.has_role(Role.SUPERVISOR) and not user.has_role(Role.ADMIN):
        scope = Member.owner_id == user.id
    elif f.branch_id:
        scope = Member.branch_id == f.branch_id
    elif user.has_role(Role.SUPERVISOR) and not user.has_role(Role.ADMIN):
        scope = (or_(Member.branch_id == user.branch_id, Member.owner_id == user.id)
                 if user.has_role(Role.VOLUNTEER) else Member.branch_id == user.branch_id)
    else:
        return []
    # The pairings of those members through each side's index, as one id list: written as
    # ``low IN (...) OR high IN (...)``, PostgreSQL scanned every open pairing against two hashed id sets
    # (a volunteer's board: ~15 ms of SQL against ~1).
    side = _SCOPE_SIDE
    return [Pairing.id.in_(union_all(
        select(side.id).join(Member, Member.id == side.member_low_id).where(scope),
        select(side.id).join(Member, Member.id == side.member_high_id).where(scope)))]


def _board_conditions(f: BoardFilters, low, high) -> list:
    conditions = []
    if f.volunteer_id:
        conditions.append(or_(low.owner_id == f.volunteer_id, high.owner_id == f.volunteer_id))
    if f.branch_id:
        conditions.append(or_(low.branch_id == f.branch_id, high.branch_id == f.branch_id))
    if f.source:
        conditions.append(Pairing.source == f.source)
    if f.min_days:
        days = min(f.min_days, BOARD_MAX_DAYS)
        conditions.append(Pairing.stage_changed_at <= now_utc() - timedelta(days=days))
    return conditions  # closed and married pairings are left out by the shown stages (board_stages)


#: A member's pairings as card rows, newest first (the case file's panel), built once like the board's.
_MEMBER_CARDS_STATEMENT = (_card_columns()
                           .where(or_(Pairing.member_low_id == bindparam("member_id"),
                                      Pairing.member_high_id == bindparam("member_id")))
                           .order_by(Pairing.created_at.desc(), Pairing.id.desc()))


def member_cards(user, member_id: int) -> list[tuple[CardPairing, CardSide]]:
    """The case file's introductions panel: each pairing of the member with the other member as the viewer may
    see them (``card_side``: the same label as ``side(...).label``). One pre-built statement of columns; as
    entities (two members with owners and branches, consents) the panel was a fifth of the case file's CPU."""
    cards = _card_rows(_MEMBER_CARDS_STATEMENT, {"member_id": member_id})
    genders = {g: g.label for g in Gender} if cards else None
    return [(card, card_side(user, card, card.other(member_id), genders)) for card in cards]


def candidates(user, member: Member, age_min=None, age_max=None, district: str = "") -> list[Member]:
    """Active, verified members of the other gender in branches ``user`` may propose to, who consent to
    processing and sharing (Member.can_be_introduced), never paired with ``member``. The caller shows
    them only as candidate views."""
    paired = select(Pairing.member_high_id).where(Pairing.member_low_id == member.id).union(
        select(Pairing.member_low_id).where(Pairing.member_high_id == member.id))
    stmt = (select(Member).where(Member.status == MemberStatus.ACTIVE, Member.gender != member.gender,
                                 Member.id != member.id, Member.id.not_in(paired),
                                 Member.realname_verified_at.is_not(None), Member.employer_verified_at.is_not(None),
                                 Member.pledge_signed_at.is_not(None), Member.processing_consent.is_(True),
                                 Member.sharing_consent.is_(True))
            .order_by(Member.id.desc()).limit(CANDIDATES_SHOWN))
    branches = policy.proposable_branch_ids(user)
    if branches is not None:
        stmt = stmt.where(Member.branch_id.in_(branches))
    t = today()
    if age_min:
        stmt = stmt.where(Member.birth_date <= _years_before(t, age_min))
    if age_max:
        stmt = stmt.where(Member.birth_date > _years_before(t, age_max + 1))
    if district:
        city, _, dist = district.partition("/")
        stmt = stmt.where(and_(Member.work_city == city, Member.work_district == dist))
    return list(db.session.scalars(stmt))


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def pairing_notes(user, pairing: Pairing):
    """Notes about this pairing on the members whose case files ``user`` may open."""
    from crm.members.models import Note

    member_ids = [m.id for m in pairing.members if policy.can_view_member(user, m)]
    if not member_ids:
        return []
    return list(db.session.scalars(
        select(Note).options(joinedload(Note.author))
        .where(Note.pairing_id == pairing.id, Note.member_id.in_(member_ids), Note.deleted_at.is_(None))
        .order_by(Note.created_at.desc(), Note.id.desc())))


def note_member_choices(user, pairing: Pairing):
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(str(m.id), m.name) for m in pairing.members if policy.can_edit_member(user, m)]


class PanelFollowUp:
    """An open follow-up as the case file's panel shows it: one row of columns (FollowUp entities with their
    assignees and branches cost more CPU than the SQL). ``is_overdue`` and ``is_done`` are FollowUp's, given
    to this class by ``_open_followups`` (crm.followups imports this module, so not at import time)."""

    __slots__ = ("id", "due_on", "kind", "title", "done_at", "assignee_name")

    def __init__(self, values):
        self.id, self.due_on, self.kind, self.title, self.done_at, self.assignee_name = values


@cache
def _open_followups():
    """The open follow-ups of a member, soonest first: the statement, built once."""
    from crm.auth.models import User
    from crm.followups.models import FollowUp

    PanelFollowUp.is_overdue, PanelFollowUp.is_done = FollowUp.is_overdue, FollowUp.is_done
    assignee = aliased(User, name="assignee")
    return (select(FollowUp.id, FollowUp.due_on, FollowUp.kind, FollowUp.title, FollowUp.done_at,
                   assignee.display_name)
            .join(assignee, assignee.id == FollowUp.assignee_id)
            .where(FollowUp.member_id == bindparam("member_id"), FollowUp.done_at.is_(None))
            .order_by(FollowUp.due_on, FollowUp.id))


def case_file_panels(user, member: Member) -> dict:
    """Context for the introductions and follow-ups panels on a member's case file."""
    from crm.blankforms import Blank
    from crm.followups.forms import FollowUpForm

    followups = [PanelFollowUp(row) for row in db.session.execute(_open_followups(), {"member_id": member.id})]
    return {"member_pairings": member_cards(user, member.id),
            "member_followups": followups, "followup_form": Blank(FollowUpForm), "today": today()}
