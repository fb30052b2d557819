from flask import request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.audit import bp
from crm.audit.labels import ACTIONS, OBJECT_TYPES
from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.web import render

PAGE = 100


@bp.route("/")
def index():
    before = request.args.get("before", type=int)
    query = select(AuditEntry).options(joinedload(AuditEntry.actor)).order_by(AuditEntry.id.desc()).limit(PAGE)
    if before and 0 < before < 2**63:  # larger ids overflow SQLite's integers
        query = query.where(AuditEntry.id < before)
    entries = list(db.session.scalars(query))
    return render("audit/index.html", "entries", entries=entries, actions=ACTIONS, object_types=OBJECT_TYPES,
                  older=entries[-1].id if len(entries) == PAGE else None)
