"""Profiles from the database: the only part of crm.matching that knows the models.

``load_profiles(session)`` reads every member the engine may consider with one statement of
plain columns (no ORM objects, so 100,000 members load in about a second), plus one for the
branch pools and one for the pairings.
"""

import sys
from collections import defaultdict

from sqlalchemy import func, select

from crm.auth.models import Branch
from crm.clock import today
from crm.matching.models import MatchingSettings
from crm.matching.profile import Preferences, Profile
from crm.members.models import Education, Member, MemberStatus
from crm.pairings.models import Pairing, Stage

#: Open introductions counted against the limit: from awaiting_consent on, while still open.
LIMITED_STAGES = (Stage.AWAITING_CONSENT, Stage.INTRODUCED, Stage.FIRST_MEETING, Stage.DATING,
                  Stage.RELATIONSHIP, Stage.ENGAGED)
TAKEN_STAGES = (Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED)
TAKEN_STATUSES = (MemberStatus.IN_RELATIONSHIP, MemberStatus.CLOSED)

COLUMNS = (Member.id, Member.gender, Member.birth_date, Member.branch_id, Member.status,
           Member.realname_verified_at, Member.employer_verified_at, Member.pledge_signed_at, Member.consent_at,
           Member.opt_out_suggestions, Member.home_city, Member.home_district, Member.work_city,
           Member.work_district, Member.settle_city, Member.education, Member.height_cm, Member.marital_history,
           Member.children_count, Member.interests, Member.values_answers, Member.pref_age_min, Member.pref_age_max,
           Member.pref_height_min, Member.pref_height_max, Member.pref_min_education, Member.pref_districts,
           Member.pref_accepts_divorced, Member.pref_accepts_children, Member.processing_consent,
           Member.sharing_consent)


def branch_pools(session) -> dict[int, frozenset[int]]:
    """Each branch's pool: itself, its parent and its sub-stations (as policy.proposable_branch_ids)."""
    rows = session.execute(select(Branch.id, Branch.parent_id)).all()
    pools = {bid: {bid} for bid, _ in rows}
    for bid, parent in rows:
        if parent is not None and parent in pools:
            pools[bid].add(parent)
            pools[parent].add(bid)
    return {bid: frozenset(p) for bid, p in pools.items()}


def pairing_facts(session, member_ids=None):
    """(excluded pairs, open introductions per member, members in a relationship via a pairing)."""
    q = select(Pairing.member_low_id, Pairing.member_high_id, Pairing.stage)
    if member_ids is not None:
        ids = list(member_ids)
        q = q.where(Pairing.member_low_id.in_(ids) | Pairing.member_high_id.in_(ids))
    pairs, open_count, taken = set(), defaultdict(int), set()
    for low, high, stage in session.execute(q):
        pairs.add((low, high))
        for mid in (low, high):
            if stage in LIMITED_STAGES:
                open_count[mid] += 1
            if stage in TAKEN_STAGES:
                taken.add(mid)
    return pairs, open_count, taken


def _i(text):
    """Interned: 100,000 profiles share one copy of each area and interest key."""
    return sys.intern(text) if text else text


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def profile_from_row(r, pools, open_count, taken, on=None) -> Profile:
    """A Profile from a Member (or a row of :data:`COLUMNS`), given the pool and pairing facts."""
    on = on or today()
    return Profile(
        id=r.id, gender=r.gender.value, age=_age(r.birth_date, on), branch_id=r.branch_id,
        pool_branch_ids=pools.get(r.branch_id, frozenset({r.branch_id})),
        active=r.status is MemberStatus.ACTIVE,
        verified=bool(r.realname_verified_at and r.employer_verified_at and r.pledge_signed_at),
        # The one place consent enters eligibility: consent on file (the verification) and, from the
        # ledger (crm.privacy), processing and sharing with matched members not withdrawn.
        consented=r.consent_at is not None and bool(r.processing_consent) and bool(r.sharing_consent),
        in_relationship_or_later=r.status in TAKEN_STATUSES or r.id in taken,
        opted_out=bool(r.opt_out_suggestions), open_introductions=open_count.get(r.id, 0),
        home_area=_i(f"{r.home_city}/{r.home_district}"), work_area=_i(f"{r.work_city}/{r.work_district}"),
        settle_city=_i(r.settle_city) or None, education_rank=r.education.rank, height=r.height_cm,
        marital=r.marital_history.value, children_count=r.children_count or 0,
        interests=frozenset(_i(k) for k in r.interests or () if isinstance(k, str)),
        values={_i(k): int(v) for k, v in (r.values_answers or {}).items() if isinstance(v, int | float)},
        prefs=Preferences(
            age_min=r.pref_age_min, age_max=r.pref_age_max, height_min=r.pref_height_min,
            height_max=r.pref_height_max,
            min_education_rank=r.pref_min_education.rank if isinstance(r.pref_min_education, Education) else None,
            districts=frozenset(_i(d) for d in r.pref_districts or () if isinstance(d, str)),
            accepts_divorced=bool(r.pref_accepts_divorced),
            accepts_children=bool(r.pref_accepts_children)))


def load_profiles(session, member_ids=None, pools=None) -> tuple[list[Profile], set]:
    """Profiles of every member (or of ``member_ids``) and the pairs already introduced."""
    q = select(*COLUMNS)
    if member_ids is not None:
        q = q.where(Member.id.in_(list(member_ids)))
    pools = pools if pools is not None else branch_pools(session)
    pairs, open_count, taken = pairing_facts(session, member_ids)
    on = today()
    return [profile_from_row(r, pools, open_count, taken, on) for r in session.execute(q)], pairs


def fingerprint(session) -> tuple:
    """A stamp that changes whenever a member, a pairing or a branch changes (one statement).

    ``members.updated_at`` moves on every profile or status change, ``pairings.stage_changed_at``
    on every move, the highest ids on inserts, ``matching_settings.updated_at`` when an
    admin changes a branch's weights; the date is in it because ages change.

    Highest ids, not counts: ``max(id)`` is one index seek, ``count`` reads every row (200,000
    pairings and 100,000 members: ~15-40 ms on every suggestions page; bench/RESULTS.md). A deletion
    below the highest id is not seen, which is harmless: candidates are re-read before they are
    shown (a deleted member drops out), and a deleted pairing at worst hides one candidate until
    the next rebuild.
    """
    row = session.execute(select(
        select(func.coalesce(func.max(Member.id), 0)).scalar_subquery(),
        select(func.max(Member.updated_at)).scalar_subquery(),
        select(func.coalesce(func.max(Pairing.id), 0)).scalar_subquery(),
        select(func.max(Pairing.stage_changed_at)).scalar_subquery(),
        select(func.max(Pairing.id)).scalar_subquery(), select(func.count(Branch.id)).scalar_subquery(),
        select(func.max(MatchingSettings.updated_at)).scalar_subquery())).one()
    return (today(), *row)
