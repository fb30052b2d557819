"""Writing audit entries: every service that changes or reveals a record calls ``record``."""

from flask import has_request_context, request

from crm.audit.models import AuditEntry
from crm.extensions import db


def record(actor, action: str, obj=None, *, object_type: str | None = None,
           object_id: int | None = None, **detail) -> AuditEntry:
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or (type(obj).__tablename__ if obj is not None else "system"),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
