"""Keeps when each member was last attended to: ``members.last_note_at``, ``attended_at`` and
``followup_due_on``, from which the dashboard reads its neglected members (crm.stats.queries).

- ``last_note_at``: the latest case note not deleted (``notes.created_at``);
- ``attended_at``: the latest of that note, an introduction proposed with the member (``pairings.created_at``,
  either side) and a follow-up of the member created or done (``followups.created_at``, ``done_at``);
- ``followup_due_on``: the latest due date among the member's follow-ups.

"No case note, proposed introduction or follow-up in the last N days" is then ``attended_at`` and
``followup_due_on`` both before the cut-off (or empty): one range of one index per branch, where it was four
index seeks for every active member (~2,700 in a branch at 100,000 members) and the last note of each.

Kept by :func:`refresh` for the members a flush touched (the ``after_flush`` session event below: a note, a
pairing or a follow-up written or deleted through the ORM), so no such writer can forget it. Writers that go
round the ORM call :func:`refresh` (erasure) or :func:`rebuild` (crm.benchdata; the migration backfills the
same). tests/members/test_attention.py compares the neglected members with the four-seek definition after
random writes.
"""

from sqlalchemy import bindparam, event, func, select, union_all, update
from sqlalchemy.orm import Session, attributes

from crm.extensions import db

# The models are imported where they are used: this module is imported by crm.members itself, before
# crm.members.models has finished loading its own imports.

_CHUNK = 500


def _recomputed():
    """UPDATE members SET the three columns from their sources (a WHERE narrows it to some members)."""
    from crm.followups.models import FollowUp
    from crm.members.models import Member, Note
    from crm.pairings.models import Pairing

    members = Member.__table__
    me = members.c.id

    def latest(column, *where):
        return select(func.max(column).label("at")).where(*where).correlate(members)

    last_note = latest(Note.created_at, Note.member_id == me, Note.deleted_at.is_(None))
    every = union_all(last_note, latest(Pairing.created_at, Pairing.member_low_id == me),
                      latest(Pairing.created_at, Pairing.member_high_id == me),
                      latest(FollowUp.created_at, FollowUp.member_id == me),
                      latest(FollowUp.done_at, FollowUp.member_id == me)).subquery()
    return update(members).values(
        last_note_at=last_note.scalar_subquery(),
        attended_at=select(func.max(every.c.at)).correlate(members).scalar_subquery(),
        followup_due_on=latest(FollowUp.due_on, FollowUp.member_id == me).scalar_subquery(),
        updated_at=members.c.updated_at)  # not an edit of the case file (the suggestion index's stamp reads it)


def refresh(connection, member_ids) -> None:
    from crm.members.models import Member

    ids = sorted(member_ids)
    for i in range(0, len(ids), _CHUNK):
        connection.execute(_recomputed().where(Member.__table__.c.id.in_(bindparam("ids", expanding=True))),
                           {"ids": ids[i:i + _CHUNK]})


def rebuild(connection=None) -> None:
    """Every member's columns from their sources (bulk writers). Planner statistics first: right after a bulk
    load PostgreSQL has none and read the notes table whole for every member (minutes at 100,000 members)."""
    connection = connection if connection is not None else db.session.connection()
    for source in ("notes", "pairings", "followups", "members"):
        connection.exec_driver_sql(f"ANALYZE {source}")
    connection.execute(_recomputed())


def _members_of(obj) -> set:
    """The members whose attention ``obj`` (a flushed note, pairing or follow-up) may change, before and after."""
    from crm.followups.models import FollowUp
    from crm.members.models import Note
    from crm.pairings.models import Pairing

    fields = {Note: ("member_id",), FollowUp: ("member_id",), Pairing: ("member_low_id", "member_high_id")}
    found = set()
    for name in fields.get(type(obj), ()):
        history = attributes.get_history(obj, name)
        found.update(history.added or (), history.unchanged or (), history.deleted or ())
    return found


def _proposal_changed(pairing) -> bool:
    """A new pairing, or one whose proposal moved (the demo back-dates ``created_at``): a stage move does not
    change when the introduction was proposed."""
    return any(attributes.get_history(pairing, name).has_changes()
               for name in ("created_at", "member_low_id", "member_high_id"))


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    from crm.followups.models import FollowUp
    from crm.members.models import Member, Note
    from crm.pairings.models import Pairing

    members = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Note, FollowUp)) or (isinstance(obj, Pairing) and _proposal_changed(obj)):
            members |= _members_of(obj)
    members.discard(None)
    if not members:
        return
    refresh(session.connection(), members)
    for obj in list(session.identity_map.values()):  # the columns were written in SQL: reload them when read
        if isinstance(obj, Member) and obj.id in members:
            session.expire(obj, ["last_note_at", "attended_at", "followup_due_on"])
