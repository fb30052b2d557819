"""A per-process cache of the statistics' expensive aggregates, keyed by a cheap freshness stamp.

The dashboard's history aggregates (funnel, median days, trends, close reasons) and its per-volunteer
and neglected-member scans cost seconds at union scale (100,000 members). They change only when the
data they read changes, so each result is kept with the :func:`stamp` it was computed under and
reused while the stamp is the same. The stamp is ONE statement of index seeks (max ids, max indexed
timestamps): a new stage move, pairing, member, case note, follow-up, follow-up completion, consent
answer or an edited case file (``members.updated_at``: status, owner, branch) changes it, so the next
view recomputes at once.

What the stamp cannot see (a follow-up rescheduled, a case note deleted, the clock moving the
"neglected" cut-off) is bounded by ``STATS_CACHE_SECONDS``: no entry is older than that. The day is
part of the stamp, so overdue follow-ups and the neglect cut-off move at midnight.

Per process: each gunicorn worker keeps its own cache (``STATS_CACHE_SIZE`` entries, least recently
used dropped first). Two workers may each compute the same aggregate once; they cannot disagree for
longer than one request, because both compare against the same stamp read from the database.
``STATS_CACHE_SECONDS = 0`` turns the cache off (the tests' default; tests that exercise it turn it on).
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app
from sqlalchemy import func, select

from crm.clock import today
from crm.extensions import db

_lock = threading.Lock()
_entries: "OrderedDict[Hashable, tuple[tuple, float, object]]" = OrderedDict()


def stamp() -> tuple:
    """What the cached aggregates depend on, read in one statement of index seeks."""
    from crm.auth.models import User
    from crm.followups.models import FollowUp
    from crm.members.models import Member, Note
    from crm.pairings.models import Pairing, PairingConsent, StageChange
    from crm.stats.models import PairingFact

    def top(column):
        return select(func.max(column)).scalar_subquery()

    row = db.session.execute(select(
        top(StageChange.id), top(Pairing.id), top(Member.id), top(Member.updated_at), top(Note.id),
        top(FollowUp.id), top(FollowUp.done_at), top(PairingConsent.recorded_at),
        # users: ~2,000 rows; their version moves on every admin edit (capacity, roles, deactivation)
        select(func.count(User.id)).scalar_subquery(), select(func.sum(User.version)).scalar_subquery(),
        # every refresh of a pair's dashboard facts inserts rows under new ids (never reused: AUTOINCREMENT)
        top(PairingFact.id),
    )).one()
    return (*row, today())


#: The stamp's fields, in order.
FIELDS = ("stage_changes", "pairings", "members", "members_updated", "notes", "followups", "followups_done",
          "consents_recorded", "users", "users_version", "facts", "today")

#: What each part of the dashboard reads, among the stamp's fields: a part is recomputed only when one
#: of ITS fields moved. ``history`` (funnel, median days, trends, close reasons) reads crm.stats.facts
#: alone, whose ids move whenever a pair's facts are recomputed (new history, a new pairing, a member
#: changing branch): a case note, a follow-up or a consent answer leaves it cached. ``volunteers``:
#: caseloads (members' owner and status), overdue follow-ups, overdue consent requests (a move changes
#: which pairings await consent), names and capacities. ``neglected``: notes, proposals, follow-ups,
#: members' status and owner, the owners' names, the day. (A case note also moves
#: ``members.updated_at``, its last-contact UPDATE, so it recomputes the volunteers and the neglected.)
PARTS = {
    "history": ("facts",),
    "volunteers": ("stage_changes", "pairings", "members", "members_updated", "followups", "followups_done",
                   "consents_recorded", "users", "users_version", "today"),
    "neglected": ("pairings", "members", "members_updated", "notes", "followups", "followups_done", "users",
                  "users_version", "today"),
}


def enabled() -> bool:
    return bool(current_app.config.get("STATS_CACHE_SECONDS", 0))


def part(current: tuple, name: str) -> tuple:
    """The fields of the stamp ``current`` that the dashboard part ``name`` depends on."""
    return tuple(current[FIELDS.index(field)] for field in PARTS[name])


def clear() -> None:
    with _lock:
        _entries.clear()


def cached(key: Hashable, compute: Callable[[], object], current: tuple | None = None):
    """``compute()``'s value for ``key``, reused while the freshness stamp is unchanged.

    ``current``: the stamp when the caller already read it (one read per request)."""
    seconds = current_app.config.get("STATS_CACHE_SECONDS", 0)
    if not seconds:
        return compute()
    current = current if current is not None else stamp()
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] == current and hit[1] > now:
            _entries.move_to_end(key)
            return hit[2]
    value = compute()
    with _lock:
        _entries[key] = (current, now + seconds, value)
        _entries.move_to_end(key)
        while len(_entries) > current_app.config.get("STATS_CACHE_SIZE", 64):
            _entries.popitem(last=False)
    return value
