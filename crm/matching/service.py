"""The engine inside the web app: a per-process index kept fresh, suggestions and "why not?".

Freshness. Each worker process keeps one :class:`SuggestionIndex` and the database stamp it was
built from (:func:`crm.matching.adapters.fingerprint`: highest member id and latest ``updated_at``,
highest pairing id, latest ``stage_changed_at``, branch count, today's date), read with one
statement per request (an admin's change of a branch's weights moves it too). When the
stamp moved, the members updated since and the two members of
every pairing created or moved since are re-read and updated in place; a deletion, a new
branch, a new day (ages) or an optional ``MATCHING_REBUILD_SECONDS`` rebuild it. Whatever the
index says, the candidates it returns are re-checked against freshly read rows before they are
shown, so a stale index can at worst show fewer candidates, never an ineligible one.
"""

import logging
import threading
import time
from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from crm.audit.services import record
from crm.extensions import db
from crm.matching import adapters
from crm.matching.filters import Context, Rules, first_failure
from crm.matching.index import SuggestionIndex
from crm.matching.models import MatchingSettings
from crm.matching.reasons import Reason
from crm.matching.reference import ANY, Narrow
from crm.matching.scoring import DEFAULT_WEIGHTS, Weights, explain
from crm.members.models import Member
from crm.members.projections import CandidateView
from crm.pairings.models import Pairing

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict = {}


@dataclass(frozen=True)
class Suggestion:
    number: int                   # the candidate's member id, shown as "candidate no."
    view: CandidateView
    score: float
    strengths: list[Reason]
    weak_points: list[Reason]


def rules() -> Rules:
    return Rules(open_limit=current_app.config["MATCHING_OPEN_LIMIT"])


def _build(stamp):
    pools = adapters.branch_pools(db.session)
    profiles, pairs = adapters.load_profiles(db.session, pools=pools)
    index = SuggestionIndex(profiles, excluded_pairs=pairs, rules=rules(), weights=DEFAULT_WEIGHTS, version=stamp)
    index.branch_pools = pools  # branch pools change only with the branch count (rebuild)
    index.branch_weights = _all_branch_weights()
    return index


def _too_old() -> bool:
    """An optional periodic full rebuild (``MATCHING_REBUILD_SECONDS``, off by default: a
    rebuild of 100,000 members takes seconds of a request, and the re-check already keeps
    every shown candidate eligible)."""
    limit = current_app.config["MATCHING_REBUILD_SECONDS"]
    return limit is not None and time.monotonic() - _cache.get("built", 0) > limit


def _refresh(index: SuggestionIndex, old, new) -> SuggestionIndex:
    """Bring ``index`` from stamp ``old`` to ``new``: in place when only updates happened."""
    day, members, updated, pairings, moved, last_id, branches, _settings = old
    if (updated is None or new[0] != day or new[1] < members or new[3] < pairings or new[6] != branches
            or _too_old()):
        _cache["built"] = time.monotonic()
        return _build(new)
    changed = set(db.session.scalars(select(Member.id).where(Member.updated_at >= updated)))
    if moved is not None:
        for low, high in db.session.execute(select(Pairing.member_low_id, Pairing.member_high_id).where(
                (Pairing.stage_changed_at >= moved) | (Pairing.id > (last_id or 0)))):
            changed |= {low, high}
    else:
        for low, high in db.session.execute(select(Pairing.member_low_id, Pairing.member_high_id)):
            changed |= {low, high}
    index.invalidate(changed)
    profiles, pairs = adapters.load_profiles(db.session, changed, pools=index.branch_pools)
    for a, b in pairs:
        index.add_pair(a, b)
    index.update(profiles, version=new)
    index.branch_weights = _all_branch_weights() if new[7] != old[7] else index.branch_weights
    return index


def current_index() -> SuggestionIndex:
    stamp = adapters.fingerprint(db.session)
    key = (current_app.import_name, str(db.engine.url))
    with _lock:
        index = _cache.get(key)
        if index is None:
            _cache["built"] = time.monotonic()
            index = _cache[key] = _build(stamp)
        elif index.version != stamp:
            index = _cache[key] = _refresh(index, index.version, stamp)
        return index


def reset() -> None:
    """Forget the cached index (tests, and after bulk imports that bypass updated_at)."""
    with _lock:
        _cache.clear()


def _profiles(members, pools):
    """Profiles of ORM members with pairing facts read now, and those facts' pairs."""
    pairs, open_count, taken = adapters.pairing_facts(db.session, [m.id for m in members])
    return {m.id: adapters.profile_from_row(m, pools, open_count, taken) for m in members}, frozenset(pairs)


def suggestions(member: Member, narrow: Narrow = ANY, k: int = 20) -> list[Suggestion]:
    """The top ``k`` for ``member``, each re-checked against rows read now.

    Three statements: the index stamp, the candidates' rows, and the pairings of both sides.
    The search itself takes ``member``'s pairing facts from the index; the re-check reads them.
    """
    index = current_index()
    pools = index.branch_pools
    a = adapters.profile_from_row(member, pools, {}, set())
    cached = index.profiles.get(member.id)
    if cached is not None:
        a = replace(a, open_introductions=cached.open_introductions,
                    in_relationship_or_later=a.in_relationship_or_later or cached.in_relationship_or_later)
    weights = index.branch_weights.get(member.branch_id, DEFAULT_WEIGHTS)
    top = index.suggest(a, k=k + 10, narrow=narrow, weights=weights)
    rows = list(db.session.scalars(select(Member).where(Member.id.in_([i for i, _ in top]))))
    fresh, pairs = _profiles(rows + [member], pools)
    by_id = {m.id: m for m in rows}
    ctx = Context(pairs, index.rules)
    ok = [(i, s) for i, s in top if i in fresh and narrow.admits(fresh[i])
          and first_failure(fresh[a.id], fresh[i], ctx) is None][:k]
    out = []
    for i, s in ok:
        good, weak = explain(fresh[a.id], fresh[i], index.interest_weights, weights)
        out.append(Suggestion(i, CandidateView.from_member(by_id[i]), s, good, weak))
    return out


def _all_branch_weights() -> dict[int, Weights]:
    return {s.branch_id: s.as_weights for s in db.session.scalars(select(MatchingSettings))}


def branch_weights(branch_id: int) -> Weights:
    """The weights an admin set for the branch, else the defaults."""
    settings = db.session.scalar(select(MatchingSettings).where(MatchingSettings.branch_id == branch_id))
    return settings.as_weights if settings is not None else DEFAULT_WEIGHTS


def branch_weights_version(branch_id: int) -> int:
    """The version of the branch's weights for optimistic locking (0: never set, the defaults apply)."""
    return db.session.scalar(select(MatchingSettings.version).where(MatchingSettings.branch_id == branch_id)) or 0


def save_branch_weights(branch, weights: Weights, by, version: int | str | None = None) -> None:
    """Store the branch's weights. ``version``: the one the form was opened on (branch_weights_version); if
    the weights were saved since, raises StaleDataError and writes nothing (None: no check)."""
    settings = db.session.scalar(select(MatchingSettings).where(MatchingSettings.branch_id == branch.id))
    if version is not None and str(version) != str(settings.version if settings is not None else 0):
        raise StaleDataError(f"matching weights of branch {branch.id} were saved meanwhile")
    if settings is None:
        settings = MatchingSettings(branch_id=branch.id)
        db.session.add(settings)
    old = settings.weights or {}
    settings.weights, settings.updated_by_id = weights.as_dict(), by.id
    try:
        db.session.flush()  # an UPDATE checks the version again (version_id_col)
    except IntegrityError as error:  # both saved the first weights of the branch at once: the other one won
        raise StaleDataError(f"matching weights of branch {branch.id} were saved meanwhile") from error
    record(by, "matching.weights", branch, old=old, new=weights.as_dict())
    log.info("matching weights of %r set by %r", branch, by)


def why_not(member: Member, other: Member) -> Reason | None:
    """The first hard filter that keeps ``other`` from ``member``'s suggestions (None: none does)."""
    fresh, pairs = _profiles([member, other], adapters.branch_pools(db.session))
    return first_failure(fresh[member.id], fresh[other.id], Context(pairs, rules()))
