"""Workflows on members: create, update, notes, verification, status and reassignment.

Services flush and never commit; the view commits once per request. Each writes its audit entry.
"""

import logging
from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.audit.services import record
from crm.auth import policy
from crm.clock import now_utc, today
from crm.errors import Refusal
from crm.extensions import db
from crm.members import vocab
from crm.members.models import (
    Assignment,
    CloseReason,
    Education,
    Gender,
    MaritalHistory,
    Member,
    MemberStatus,
    Note,
    NoteKind,
    NoteRevision,
    Tier,
    id_number_hash,
)
from crm.members.pinyin import name_keys

log = logging.getLogger(__name__)

VERIFICATION_CHECKS = {
    # check -> (timestamp attribute, user attribute, label)
    "realname": ("realname_verified_at", "realname_verified_by_id", _l("Real name checked")),
    "employer": ("employer_verified_at", "employer_verified_by_id", _l("Employer and union membership checked")),
    "pledge": ("pledge_signed_at", "pledge_recorded_by_id", _l("Singleness pledge signed")),
    "consent": ("consent_at", "consent_recorded_by_id", _l("Consent to data processing on file")),
}


def _profile_values(form) -> dict:
    """Model attributes from a MemberForm, converted to their stored types."""
    work_city, _, work_district = form.work_area.data.partition("/")
    home_city, _, home_district = form.home_area.data.partition("/")
    values = {key: getattr(form, f"value_{key}").data for key in vocab.VALUES_QUESTIONS}
    return {
        "name": form.name.data, "gender": Gender(form.gender.data), "birth_date": form.birth_date.data,
        "phone": form.phone.data, "phone_last4": form.phone.data[-4:], "wechat_id": form.wechat_id.data or None,
        "employer": form.employer.data, "union_name": form.union_name.data or None,
        "is_union_member": form.is_union_member.data, "occupation_category": form.occupation_category.data,
        "occupation": form.occupation.data or None, "education": Education(form.education.data),
        "tier": Tier(form.tier.data), "height_cm": form.height_cm.data, "hometown": form.hometown.data or None,
        "work_city": work_city, "work_district": work_district,
        "home_city": home_city, "home_district": home_district, "settle_city": form.settle_city.data or None,
        "marital_history": MaritalHistory(form.marital_history.data), "children_count": form.children_count.data,
        "self_intro": form.self_intro.data or None, "interests": list(form.interests.data or []),
        "values_answers": {k: int(v) for k, v in values.items() if v},
        "opt_out_suggestions": form.opt_out_suggestions.data,
        "pref_age_min": form.pref_age_min.data, "pref_age_max": form.pref_age_max.data,
        "pref_height_min": form.pref_height_min.data, "pref_height_max": form.pref_height_max.data,
        "pref_min_education": Education(form.pref_min_education.data) if form.pref_min_education.data else None,
        "pref_districts": list(form.pref_districts.data or []),
        "pref_accepts_divorced": form.pref_accepts_divorced.data,
        "pref_accepts_children": form.pref_accepts_children.data,
    }


def _apply_profile(member: Member, form) -> list[str]:
    changed = []
    for attr, value in _profile_values(form).items():
        if getattr(member, attr) != value:
            setattr(member, attr, value)
            changed.append(attr)
    member.name_pinyin, member.name_initials = name_keys(member.name)
    if form.id_number.data:
        member.id_last4 = form.id_number.data[-4:].upper()
        member.id_hash = id_number_hash(current_app.config["SECRET_KEY"], form.id_number.data)
        changed.append("id_number")
    return changed


def create_member(form, *, by, branch, owner=None) -> Member:
    # A case belongs to its volunteer's branch (an admin may create one for any branch's volunteer).
    member = Member(branch=owner.branch if owner is not None else branch, owner=owner, status=MemberStatus.INTAKE)
    _apply_profile(member, form)
    db.session.add(member)
    db.session.flush()
    if owner is not None:
        db.session.add(Assignment(member_id=member.id, to_user_id=owner.id, by_id=by.id,
                                  reason=str(_l("New case file"))))
    record(by, "member.create", member)
    log.info("created %r by %r", member, by)
    return member


def update_member(member: Member, form, *, by) -> list[str]:
    changed = _apply_profile(member, form)
    if changed:
        record(by, "member.update", member, fields=changed)  # names of fields only, never values
        log.info("updated %r by %r: %s", member, by, ", ".join(changed))
    return changed


def find_duplicate(form, *, exclude_id=None) -> Member | None:
    """Another member with the same ID number (by its keyed hash) or the same phone."""
    from sqlalchemy import or_, select
    conditions = [Member.phone == form.phone.data]
    if form.id_number.data:
        conditions.append(Member.id_hash == id_number_hash(current_app.config["SECRET_KEY"], form.id_number.data))
    query = select(Member).where(or_(*conditions))
    if exclude_id:
        query = query.where(Member.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def add_note(member: Member, *, by, kind: NoteKind, body: str, contact_on) -> Note:
    note = Note(member_id=member.id, author_id=by.id, kind=kind, body=body, contact_on=contact_on)
    db.session.add(note)
    # The last contact is when it happened, not when the note was typed in (a call last week stays last week).
    contact_at = now_utc() if contact_on >= today() else datetime.combine(contact_on, time())
    _write_last_contact(member, contact_at, only_if_later=True)
    db.session.flush()
    record(by, "note.create", note, member_id=member.id)
    return note


def edit_note(note: Note, *, by, body: str) -> bool:
    if body == note.body:
        return False
    db.session.add(NoteRevision(note_id=note.id, body=note.body, replaced_by_id=by.id))
    note.body = body
    note.edited_at = now_utc()
    record(by, "note.edit", note, member_id=note.member_id)
    return True


def delete_note(note: Note, member: Member, *, by) -> None:
    """Soft-delete ``note``: it leaves the case file but is kept, with who deleted it, until restored
    (``restore_note``) or until the member is erased. Bumps the note's version."""
    if note.deleted_at is not None:
        raise Refusal(_l("This note has already been deleted."))
    note.deleted_by_id, note.deleted_at = by.id, now_utc()  # by.id first: loading it may autoflush
    db.session.flush()
    _recount_last_contact(member)
    record(by, "note.delete", note, member_id=note.member_id)


def restore_note(note: Note, member: Member, *, by) -> None:
    """Undo ``delete_note``: the note is back where it was, and the audit log keeps both steps."""
    if note.deleted_at is None:
        raise Refusal(_l("This note is not deleted."))
    note.deleted_at = None
    note.deleted_by_id = None
    db.session.flush()
    _recount_last_contact(member)
    record(by, "note.restore", note, member_id=note.member_id)


def _recount_last_contact(member: Member) -> None:
    """The last contact from the member's remaining notes, as ``add_note`` sets it (a note on the wrong
    member must not leave it looking recently contacted)."""
    from sqlalchemy import select
    rows = db.session.execute(select(Note.contact_on, Note.created_at).where(
        Note.member_id == member.id, Note.deleted_at.is_(None))).all()
    _write_last_contact(member, max(
        (created if contact_on >= created.date() else datetime.combine(contact_on, time())
         for contact_on, created in rows), default=None))


def _write_last_contact(member: Member, contact_at: datetime | None, *, only_if_later: bool = False) -> None:
    """``last_contact_at`` follows the notes, so it is written by its own UPDATE, outside the member's version:
    two volunteers adding notes to one member at once, or a note added while someone edits the case file, must
    never conflict (under PostgreSQL's concurrency the versioned UPDATE of the second note failed with a 500).
    ``only_if_later``: a note about an older contact never moves the date back, whatever committed meanwhile."""
    from sqlalchemy import or_, update
    from sqlalchemy.orm.attributes import set_committed_value

    members = Member.__table__
    statement = update(members).where(members.c.id == member.id).values(last_contact_at=contact_at)
    if only_if_later:
        statement = statement.where(or_(members.c.last_contact_at.is_(None), members.c.last_contact_at < contact_at))
        if member.last_contact_at is not None and member.last_contact_at >= contact_at:
            contact_at = member.last_contact_at
    db.session.execute(statement)
    set_committed_value(member, "last_contact_at", contact_at)


def verify_member(member: Member, check: str, *, by) -> None:
    if check not in VERIFICATION_CHECKS:
        raise Refusal(_l("Unknown verification step."))
    at_attr, by_attr, _label = VERIFICATION_CHECKS[check]
    if getattr(member, at_attr) is not None:
        raise Refusal(_l("This step has already been recorded."))
    setattr(member, at_attr, now_utc())
    setattr(member, by_attr, by.id)
    if member.status is MemberStatus.INTAKE and member.is_ready_to_activate:
        member.status = MemberStatus.ACTIVE
    record(by, "member.verify", member, check=check)
    log.info("verified %s of %r by %r", check, member, by)


def status_refusal(member: Member, status: MemberStatus):
    """Why ``member`` may not be set to ``status`` by hand, or None."""
    if status not in member.status.choosable_by_hand():
        pairing = relationship_introduction(member) if member.status is MemberStatus.IN_RELATIONSHIP else None
        if pairing is None:
            return _l("A relationship is recorded through the pairing, not by hand.")
        return _l("This member is in a relationship through introduction %(ref)s: move or close it there. "
                  "Here the case file can only be closed.", ref=pairing.reference)
    if member.status is MemberStatus.CLOSED and status is not MemberStatus.CLOSED:
        pairing = relationship_introduction(member)
        if pairing is not None:
            return _l("Introduction %(ref)s is at “%(stage)s”: close it before reopening this case file.",
                      ref=pairing.reference, stage=pairing.stage.label)
    if status is MemberStatus.ACTIVE and not member.is_ready_to_activate:
        return _l("A member becomes active only when all three checks and the consent are recorded.")
    return None


def relationship_introduction(member: Member):
    """The introduction of ``member``'s at a stage that takes both members out of the pool, or None."""
    from sqlalchemy import or_, select

    from crm.pairings.models import Pairing
    from crm.pairings.pipeline import TAKEN

    return db.session.scalars(select(Pairing).where(
        or_(Pairing.member_low_id == member.id, Pairing.member_high_id == member.id),
        Pairing.stage.in_(TAKEN)).order_by(Pairing.id).limit(1)).first()


def set_status(member: Member, status: MemberStatus, *, by, close_reason: CloseReason | None = None) -> None:
    refusal = status_refusal(member, status)
    if refusal:
        raise Refusal(refusal, field="status")
    old = member.status
    member.status = status
    member.close_reason = close_reason if status is MemberStatus.CLOSED else None
    record(by, "member.status", member, old=old.value, new=status.value,
           reason=close_reason.value if close_reason else None)
    if status is MemberStatus.CLOSED and old is not MemberStatus.CLOSED:
        case_closed(member, by)


def case_closed(member: Member, by) -> None:
    """What a closed case file entails, however it closed (by hand, or married through the pipeline): its open
    introductions close and its caseworkers' open follow-ups end."""
    from crm.followups.services import end_for_closed_case
    from crm.pairings.pipeline import close_open_introductions

    close_open_introductions(member, by)
    end_for_closed_case(member, by=by, why=_l("The case file was closed."))


def capacity_warning(members: list[Member], to_user) -> str | None:
    """Why giving ``members`` to ``to_user`` would take them above their capacity (User.max_caseload),
    or None. A warning the supervisor may confirm, not a refusal."""
    from sqlalchemy import func, select

    if to_user.max_caseload is None:
        return None
    incoming = sum(1 for m in members if m.owner_id != to_user.id and m.status is not MemberStatus.CLOSED)
    if not incoming:
        return None
    current = db.session.scalar(select(func.count(Member.id)).where(
        Member.owner_id == to_user.id, Member.status != MemberStatus.CLOSED)) or 0
    if current + incoming <= to_user.max_caseload:
        return None
    return _l("%(name)s would then have %(count)d open cases, more than their capacity of %(capacity)d. "
              "Tick “Assign anyway” to go ahead.", name=to_user.display_name, count=current + incoming,
              capacity=to_user.max_caseload)


def check_reassignment(members: list[Member], to_user, *, by) -> None:
    """Raise the Refusal :func:`reassign_members` would raise (the view asks for confirmation only after this)."""
    if not policy.can_assign_to(by, to_user):
        raise Refusal(_l("You cannot assign cases to this user."), field="to_user_id")
    refused = [m for m in members if not policy.can_reassign_member(by, m)]
    if refused or not members:
        raise Refusal(_l("You may not reassign some of the selected members."), field="member_ids")


def reassign_members(members: list[Member], to_user, *, by, reason: str) -> int:
    """Give every member in ``members`` to ``to_user``: all of them, or none if one is refused. The old owner's
    open follow-ups on each go with it."""
    from crm.followups.services import hand_over_case

    check_reassignment(members, to_user, by=by)
    moved = 0
    for member in members:
        if member.owner_id == to_user.id:
            continue
        db.session.add(Assignment(member_id=member.id, from_user_id=member.owner_id, to_user_id=to_user.id,
                                  by_id=by.id, reason=reason))
        record(by, "member.reassign", member, from_user=member.owner_id, to_user=to_user.id, reason=reason,
               from_branch=member.branch_id, to_branch=to_user.branch_id)
        hand_over_case(member, member.owner_id, to_user, by=by)
        member.owner_id = to_user.id
        # The case follows its volunteer: the new branch's supervisor must be able to manage it.
        if member.branch_id != to_user.branch_id:
            from crm.counselling.services import member_moved_branch
            from crm.pairings import stage_counts  # the board's column totals count per branch

            stage_counts.member_moved(member.id, member.branch_id, to_user.branch_id)
            member_moved_branch(member, to_user.branch_id, by=by)
        member.branch_id = to_user.branch_id
        moved += 1
    db.session.flush()
    log.info("reassigned %d members to %r by %r", moved, to_user, by)
    return moved
