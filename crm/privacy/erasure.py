"""Erasure (the member's right to deletion) and retention: one anonymisation for both.

``erase_member`` removes the person from every table while the rows that statistics count stay:

- the member row stays with a pseudonym instead of the name and with every identifying or free-text
  field emptied (``ERASED_MEMBER_FIELDS``); gender, birth year, education, cities, status and the
  dates of verification remain for anonymous counts;
- rows that are only about the person are deleted (notes and their revisions, intake applications);
- rows that statistics count (pairings, their answers and stage history, follow-ups, referrals and
  counselling sessions, consent ledger rows, assignments) stay with their free text emptied;
- text written about the person elsewhere (the other member's notes on a shared introduction, the
  audit log's details) has the person's identifiers and texts replaced by the pseudonym;
- the photo file is deleted when the transaction commits, and the member leaves the suggestion
  index (``updated_at`` moves; the member is closed and has withdrawn every consent).

The audit log stays pseudonymous: entries keep pointing at the member row, which now carries only
the pseudonym. That is the only rewrite of audit entries the application makes (a Core UPDATE of
``detail``; the ORM guard in crm.audit.models refuses any other).

``TABLES`` says, for every table that refers to a member directly or through another table, how it
is handled, and ``COLUMNS`` what happens to each of its text columns. tests/privacy/test_erasure.py
walks the metadata and fails when a table or a text column appears that is not listed here, so a new
table can never be forgotten silently.
"""

import json
import secrets
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Text, cast, delete, or_, select, update

from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.clock import now_utc
from crm.extensions import db
from crm.members.models import Member, MemberStatus
from crm.privacy.photos import delete_photo

ERASED = "erase"   # emptied (None, "" or an empty JSON value)
KEPT = "keep"      # not personal, or needed for anonymous statistics
SCRUBBED = "scrub"  # the person's identifiers replaced by the pseudonym

#: How each table that refers to a member is handled (the test requires every such table here).
TABLES = {
    "members": "anonymised: pseudonym, identifying and free-text fields emptied",
    "notes": "the member's notes deleted; other members' notes on a shared introduction scrubbed",
    "note_revisions": "deleted with their notes; revisions of scrubbed notes scrubbed",
    "assignments": "kept (caseload history), reason emptied",
    "pairings": "kept (stage counts)",
    "pairing_consents": "kept (answers and what was shared, no text)",
    "stage_changes": "kept, note emptied",
    "pairing_stage_firsts": "kept (when each stage was first reached: statistics; no personal content)",
    "stats_pairing_facts": "kept (the dashboard's per-pair dates, stages and days: statistics; no personal content)",
    "member_name_grams": "rewritten from the pseudonym when the name is (the name's substrings go with it)",
    "followups": "kept (counts), title and outcome emptied",
    "referrals": "kept (counts), reason and outcome emptied",
    "counselling_sessions": "kept (counts), notes and summary emptied",
    "case_shares": "kept (no personal content)",
    "risk_alerts": "kept (no personal content)",
    "risk_alert_followups": "kept (link table)",
    "member_consents": "kept (purpose, version, given/withdrawn), comment emptied",
    "intake_applications": "deleted (the application is the person's data)",
    "event_registrations": "kept (attendance counts; no text of their own); open sign-ups for events still to come "
                           "cancelled first, their places passed on (crm.events.services.withdraw_from_events)",
    "event_choices": "kept (choice counts; no text of their own)",
}

#: Every text-like column of those tables: ERASED, KEPT or SCRUBBED (the test checks completeness).
COLUMNS = {
    "members": {
        "name": ERASED, "name_pinyin": ERASED, "name_initials": ERASED, "phone": ERASED,
        "phone_last4": ERASED, "wechat_id": ERASED, "id_last4": ERASED, "id_hash": ERASED, "employer": ERASED,
        "union_name": ERASED, "occupation_category": KEPT, "occupation": ERASED, "hometown": ERASED,
        "work_city": KEPT, "work_district": ERASED, "home_city": KEPT, "home_district": ERASED,
        "settle_city": KEPT, "self_intro": ERASED, "photo_path": ERASED, "interests": ERASED,
        "values_answers": ERASED, "pref_districts": ERASED, "consent_versions": ERASED,
    },
    "notes": {"body": ERASED},
    "note_revisions": {"body": ERASED},
    "assignments": {"reason": ERASED},
    "stage_changes": {"note": ERASED},
    "followups": {"title": ERASED, "outcome": ERASED},
    "referrals": {"reason": ERASED, "outcome": ERASED},
    "counselling_sessions": {"confidential_notes": ERASED, "shareable_summary": ERASED},
    "member_consents": {"text_version": KEPT, "comment": ERASED},
    "intake_applications": "deleted",
    "member_name_grams": {"gram": SCRUBBED},
    "pairings": {}, "pairing_consents": {}, "pairing_stage_firsts": {}, "case_shares": {}, "risk_alerts": {},
    "stats_pairing_facts": {"stage": KEPT},
    "risk_alert_followups": {},
    "event_registrations": {"channel": KEPT}, "event_choices": {},
}

#: Member fields emptied on erasure, with the value they get (NOT NULL strings get "").
ERASED_MEMBER_FIELDS = {
    "name_pinyin": "", "name_initials": "", "phone": "", "phone_last4": "", "wechat_id": None,
    "id_last4": None, "id_hash": None, "employer": "", "union_name": None, "occupation": None,
    "hometown": None, "work_district": "", "home_district": "", "self_intro": None, "photo_consent": False,
    "interests": [], "values_answers": {}, "pref_age_min": None, "pref_age_max": None, "pref_height_min": None,
    "pref_height_max": None, "pref_min_education": None, "pref_districts": [], "pref_accepts_divorced": True,
    "pref_accepts_children": False, "opt_out_suggestions": True, "processing_consent": False,
    "sharing_consent": False, "consent_versions": {}, "height_cm": None, "children_count": 0,
    "last_contact_at": None, "owner_id": None, "is_union_member": False,
}


def new_pseudonym() -> str:
    return f"ERASED-{secrets.token_hex(5).upper()}"


def _identifiers(member, texts) -> list[str]:
    """Strings that identify the person or that they (or staff about them) wrote, longest first.
    Short codes (last four digits, initials) would match unrelated text and are left out."""
    values = {member.name, member.phone, member.wechat_id} | set(texts)
    values -= {member.name_initials, member.phone_last4, member.id_last4, member.work_city, member.home_city}
    return sorted((v for v in values if v and len(v.strip()) >= 2), key=len, reverse=True)


def _scrub(value, needles, pseudonym):
    if isinstance(value, str):
        for needle in needles:
            if needle in value:
                value = value.replace(needle, pseudonym)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles, pseudonym) for k, v in value.items()}
    return value


def _table(name):
    return db.metadata.tables.get(name)


def _empty(column):
    if not column.nullable:
        return {} if column.type.__class__.__name__ == "JSON" else ""
    return None


def _texts(values) -> set[str]:
    """The strings among ``values`` (JSON values hold vocabulary codes, not free text: skipped)."""
    return {v for v in values if isinstance(v, str)}


#: Columns of deleted rows whose text is scrubbed elsewhere: identifiers and free text (Text columns).
_IDENTIFYING = {"name", "phone", "wechat_id"}


def _erase_columns(table_name, where, collected: set):
    """Empty the ERASED columns of ``table_name``'s rows matching ``where`` (a Core condition),
    adding the texts they held to ``collected`` (to be scrubbed from the audit log)."""
    table = _table(table_name)
    names = [c for c, how in COLUMNS[table_name].items() if how == ERASED]
    if not names:
        return
    for row in db.session.execute(select(*(table.c[c] for c in names)).where(where)):
        collected |= _texts(row)
    db.session.execute(update(table).where(where).values(**{c: _empty(table.c[c]) for c in names}))


def _delete_rows(table, where, collected: set):
    """Delete ``table``'s rows matching ``where``, adding their texts to ``collected``."""
    text_columns = [c for c in table.c if c.name in _IDENTIFYING or isinstance(c.type, Text)]
    for row in db.session.execute(select(*text_columns).where(where)):
        collected |= _texts(row)
    db.session.execute(delete(table).where(where))


def erase_member(member, by, reason: str, *, pseudonym: str | None = None, action: str = "member.erase") -> str:
    """Anonymise ``member`` everywhere (see the module docstring). Flushes; the caller commits."""
    if member.erased_at is not None:
        return member.name
    pseudonym = pseudonym or new_pseudonym()
    mid = member.id
    session = db.session
    session.flush()
    # Places the person held or waited for at events still to come go to the next on the waiting list.
    from crm.events.services import withdraw_from_events
    withdraw_from_events(member, by)
    t = db.metadata.tables

    pairings = t["pairings"]
    pairing_ids = list(session.scalars(select(pairings.c.id).where(
        or_(pairings.c.member_low_id == mid, pairings.c.member_high_id == mid))))

    # Every text emptied or deleted below is collected first: it is scrubbed from what stays.
    collected: set[str] = set()
    notes, revs = t["notes"], t["note_revisions"]
    own_notes = list(session.scalars(select(notes.c.id).where(notes.c.member_id == mid)))
    if own_notes:
        _delete_rows(revs, revs.c.note_id.in_(own_notes), collected)
        _delete_rows(notes, notes.c.id.in_(own_notes), collected)
    _erase_columns("assignments", t["assignments"].c.member_id == mid, collected)
    _erase_columns("member_consents", t["member_consents"].c.member_id == mid, collected)
    if pairing_ids:
        _erase_columns("stage_changes", t["stage_changes"].c.pairing_id.in_(pairing_ids), collected)
    followups = t["followups"]
    _erase_columns("followups", or_(followups.c.member_id == mid, followups.c.pairing_id.in_(pairing_ids or [-1])),
                   collected)
    referrals = t["referrals"]
    referral_ids = list(session.scalars(select(referrals.c.id).where(referrals.c.member_id == mid)))
    _erase_columns("referrals", referrals.c.member_id == mid, collected)
    if referral_ids:
        _erase_columns("counselling_sessions", t["counselling_sessions"].c.referral_id.in_(referral_ids), collected)
    if "intake_applications" in t:
        apps = t["intake_applications"]
        mine = or_(apps.c.member_id == mid, apps.c.duplicate_member_id == mid)
        app_ids = list(session.scalars(select(apps.c.id).where(mine)))
        _delete_rows(apps, mine, collected)
        if app_ids:  # the applicant's own IP address was logged with their public application
            audit = AuditEntry.__table__
            session.execute(update(audit).where(audit.c.object_type == "intake_applications",
                                                audit.c.object_id.in_(app_ids)).values(ip=None))
    if "event_registrations" in t:
        _erase_columns("event_registrations", t["event_registrations"].c.member_id == mid, collected)
    from crm.members import attention
    attention.refresh(session.connection(), [mid])  # its notes went round the ORM

    # Member texts too; then the identifiers and texts, longest first, become the pseudonym wherever
    # they still appear: other members' notes on a shared introduction, and the audit log.
    collected |= _texts([member.self_intro, member.name_pinyin if len(member.name_pinyin or "") >= 4 else None])
    needles = _identifiers(member, collected)
    if pairing_ids:
        for row in session.execute(select(notes.c.id, notes.c.body).where(notes.c.pairing_id.in_(pairing_ids))).all():
            session.execute(update(notes).where(notes.c.id == row.id).values(body=_scrub(row.body, needles, pseudonym)))
            for rev in session.execute(select(revs.c.id, revs.c.body).where(revs.c.note_id == row.id)).all():
                session.execute(update(revs).where(revs.c.id == rev.id).values(
                    body=_scrub(rev.body, needles, pseudonym)))

    # The photo file goes at commit; the member row keeps only what statistics count.
    delete_photo(member, by, audit=False)
    for field, value in ERASED_MEMBER_FIELDS.items():
        setattr(member, field, value)
    member.name = pseudonym
    member.birth_date = date(member.birth_date.year, 1, 1)
    if member.status is not MemberStatus.CLOSED:
        member.status = MemberStatus.CLOSED
    member.erased_at = now_utc()
    member.updated_at = now_utc()  # moves the suggestion index's stamp: the member leaves it
    session.flush()

    _scrub_audit(needles, pseudonym)
    record(by, action, member, pseudonym=pseudonym, reason=_scrub(reason or "", needles, pseudonym),
           pairings=len(pairing_ids))
    session.flush()
    current_app.logger.info("member %s erased (%s) by %r", mid, action, by)
    return pseudonym


def _json_forms(needle: str) -> set[str]:
    """How ``needle`` may appear inside stored JSON text (escaped or not)."""
    return {needle, json.dumps(needle)[1:-1], json.dumps(needle, ensure_ascii=False)[1:-1]}


def _scrub_audit(needles, pseudonym) -> int:
    """Replace the person's identifiers in audit details (Core UPDATE: the one sanctioned rewrite)."""
    if not needles:
        return 0
    as_text = cast(AuditEntry.detail, Text)
    forms = set().union(*(_json_forms(n) for n in needles))
    conditions = [as_text.contains(f, autoescape=True) for f in forms]
    rows = db.session.execute(select(AuditEntry.id, AuditEntry.detail).where(or_(*conditions))).all()
    for entry_id, detail in rows:
        db.session.execute(update(AuditEntry.__table__).where(AuditEntry.__table__.c.id == entry_id)
                           .values(detail=_scrub(detail, needles, pseudonym)))
    return len(rows)


# --- Retention ---------------------------------------------------------------------------------

def expired_members(on=None):
    """Closed cases untouched (no edit, no contact) for RETENTION_DAYS, not yet anonymised.

    ``updated_at`` moves on every change, the closing included, so a case counts from its last
    change: never earlier than from its closing."""
    cutoff = (on or now_utc()) - timedelta(days=current_app.config["RETENTION_DAYS"])
    return list(db.session.scalars(select(Member).where(
        Member.status == MemberStatus.CLOSED, Member.erased_at.is_(None), Member.updated_at < cutoff,
        or_(Member.last_contact_at.is_(None), Member.last_contact_at < cutoff)).order_by(Member.id)))


def purge_expired(dry_run: bool = False) -> list[int]:
    """Anonymise every expired case (see :func:`expired_members`); the ids, also in a dry run."""
    members = expired_members()
    ids = [m.id for m in members]
    if dry_run:
        return ids
    for member in members:
        erase_member(member, None, f"retention: closed more than {current_app.config['RETENTION_DAYS']} days",
                     action="member.retention_purge")
    record(None, "privacy.purge", object_type="system", count=len(ids), member_ids=ids)
    db.session.flush()
    return ids

