"""Writing audit entries: every service that changes or reveals a record calls ``record``."""

from flask import has_request_context, request
from sqlalchemy import insert

from crm.audit.models import AuditEntry
from crm.extensions import db


def new_entry(actor, action: str, obj=None, *, object_type: str | None = None,
              object_id: int | None = None, **detail) -> AuditEntry:
    """An entry as ``record`` writes it, not yet added to the session (for ``record_all``)."""
    return AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or (type(obj).__tablename__ if obj is not None else "system"),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )


def record(actor, action: str, obj=None, *, object_type: str | None = None,
           object_id: int | None = None, **detail) -> AuditEntry:
    entry = new_entry(actor, action, obj, object_type=object_type, object_id=object_id, **detail)
    db.session.add(entry)
    return entry


#: What ``record_all`` writes; ``at`` comes from its column default (crm.clock.now_utc), as when the session flushes.
_COLUMNS = ("actor_id", "action", "object_type", "object_id", "detail", "ip")


def record_all(entries: list[AuditEntry]) -> None:
    """Writes ``entries`` (from ``new_entry``) in one INSERT, in the caller's transaction.

    For batches: entries added to the session one by one are flushed one INSERT each on SQLite (the
    ORM reads each new id back, and SQLite cannot return the ids of a multi-row INSERT in order), so
    a 50-item batch cost 50 statements. These entries are not kept in the session (their ids are not
    read back)."""
    if entries:
        db.session.execute(insert(AuditEntry), [{c: getattr(e, c) for c in _COLUMNS} for e in entries])


#: ``record_now``'s statement, built once: the table's INSERT (Core, not the ORM's unit of work); ``at`` comes from
#: the column default as in ``record``.
_INSERT_NOW = insert(AuditEntry.__table__)


def record_now(actor, action: str, obj) -> None:
    """``record`` written at once as one pre-built INSERT, for a page view that writes nothing else (the case file,
    whose every view privacy requires in the log). No entity enters the session, so the commit has nothing to
    flush: through the session and a flush the entry cost ~1 ms of CPU per view (issue 10), this ~0.2 ms."""
    db.session.execute(_INSERT_NOW, {
        "actor_id": getattr(actor, "id", None), "action": action, "object_type": type(obj).__tablename__,
        "object_id": obj.id, "detail": {}, "ip": request.remote_addr if has_request_context() else None})
