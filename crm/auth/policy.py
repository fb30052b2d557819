"""Who may do what: the one place for role and record-level permission rules.

Two layers, both deny by default:
- ``ROUTE_ACCESS`` names, for every endpoint, the roles that may call it at all. An endpoint
  missing from the table is refused, and a test walks the URL map to keep the table complete.
- ``can_*`` functions decide about one record; loaders call them before a view does anything.
"""

from flask import abort, request
from flask_login import current_user
from sqlalchemy import false, or_, true

from crm.auth.models import Role

PUBLIC = "public"
STAFF = Role.VOLUNTEER | Role.COUNSELLOR | Role.SUPERVISOR | Role.ADMIN
CASEWORK = Role.VOLUNTEER | Role.SUPERVISOR | Role.ADMIN
MANAGERS = Role.SUPERVISOR | Role.ADMIN

ROUTE_ACCESS: dict[str, Role | str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.confirm_password": STAFF,
    "auth.set_language": PUBLIC,
    "auth.logout": STAFF,
    "auth.home": STAFF,
    "members.index": CASEWORK,
    "members.search": CASEWORK,
    "members.new": CASEWORK,
    "members.detail": CASEWORK,
    "members.reveal_phone": CASEWORK,  # + can_view_member and a fresh password entry (crm.members.reveal)
    "members.edit": CASEWORK,
    "members.set_status": CASEWORK,
    "members.add_note": CASEWORK,
    "members.edit_note": CASEWORK,
    "members.delete_note": CASEWORK,  # + can_delete_note: the author or a supervisor of the branch
    "members.restore_note": CASEWORK,  # + can_delete_note (undo of a deletion)
    "members.verify": CASEWORK,  # volunteers record consent; the three checks need can_verify_member
    "members.reassign": MANAGERS,
    "members.team": MANAGERS,
    "members.reassign_bulk": MANAGERS,
    "audit.index": Role.ADMIN,
    "admin.users": Role.ADMIN,
    "admin.user_new": Role.ADMIN,
    "admin.user_edit": Role.ADMIN,
    "admin.user_active": Role.ADMIN,
    "admin.user_password": Role.ADMIN,
    "auth.change_password": STAFF,
    "pairings.detail": CASEWORK,
    "pairings.move": CASEWORK,
    "pairings.consent": CASEWORK,
    "pairings.add_note": CASEWORK,
    "pairings.board": CASEWORK,
    "pairings.board_more": CASEWORK,
    "pairings.inbox": CASEWORK,
    "pairings.propose": CASEWORK,
    "matching.suggestions": CASEWORK,
    "matching.why_not": CASEWORK,
    "matching.weights": Role.ADMIN,
    "cards.pairing_pdf": CASEWORK,
    "cards.select": CASEWORK,
    "cards.batch": CASEWORK,
    # Counsellors have follow-ups too (each planned session makes one), on members they counsel.
    "followups.index": STAFF,
    "followups.panel": CASEWORK,
    "followups.new": CASEWORK,
    "followups.complete": STAFF,
    "followups.reset_feed": STAFF,
    "followups.feed": PUBLIC,  # the secret token in the URL is the credential (calendar apps cannot log in)
    "counselling.home": Role.COUNSELLOR,
    "counselling.referral": STAFF,
    "counselling.profile": Role.COUNSELLOR,
    "counselling.refer": CASEWORK,
    "counselling.accept": Role.COUNSELLOR,
    "counselling.assign": MANAGERS,
    "counselling.close": Role.COUNSELLOR | MANAGERS,
    "counselling.log_session": Role.COUNSELLOR,
    "counselling.share": Role.COUNSELLOR,
    "counselling.alerts": Role.SUPERVISOR,
    "counselling.acknowledge": Role.SUPERVISOR,
    # Mixer events (crm.events): managers organise; volunteers sign up their members, work the door and
    # enter choices. Record-level: can_manage_event, can_run_event, can_register_member, can_enter_choices.
    "events.index": CASEWORK,
    "events.new": MANAGERS,
    "events.detail": CASEWORK,
    "events.edit": MANAGERS,
    "events.set_status": MANAGERS,
    "events.register": CASEWORK,
    "events.cancel_registration": CASEWORK,
    "events.door": CASEWORK,
    "events.check_in": CASEWORK,
    "events.choices": CASEWORK,
    "events.report": CASEWORK,
    "events.cards": CASEWORK,
    "events.badges": CASEWORK,
    # Members sign themselves up (or cancel) on the public page of an open event: the random token in the URL
    # finds the event; they identify with their phone and the last 4 ID characters (rate-limited).
    "events.join": PUBLIC,
    "events.join_cancel": PUBLIC,
    "events.join_done": PUBLIC,
    # Intake (crm.intake): the application form is public (rate-limited per IP, honeypot); the queue and
    # the roster import are for supervisors (own branch, can_decide_application) and admins.
    "intake.apply": PUBLIC,
    "intake.thanks": PUBLIC,
    "intake.queue": MANAGERS,
    "intake.application": MANAGERS,
    "intake.accept": MANAGERS,
    "intake.reject": MANAGERS,
    "intake.import_upload": MANAGERS,
    "intake.import_template": MANAGERS,
    "intake.import_preview": MANAGERS,
    "intake.import_confirm": MANAGERS,
    "intake.import_rejects": MANAGERS,
    # Privacy (crm.privacy): record-level checks below (can_see_photo, can_export_member, can_erase_member).
    "privacy.photo": CASEWORK,
    "privacy.pairing_photo": CASEWORK,
    "privacy.upload_photo": CASEWORK,
    "privacy.delete_photo": CASEWORK,
    "privacy.consents": CASEWORK,
    "privacy.export": CASEWORK,
    "privacy.erase": MANAGERS,
    # Statistics (crm.stats): aggregates and the dashboard for supervisors (own branch) and admins (any
    # branch, or the whole union); exports also need a fresh password. Capacity is set by admins.
    "stats.figures": MANAGERS,
    "stats.dashboard": MANAGERS,
    "stats.export": MANAGERS,
    "stats.annual_report": MANAGERS,
    "stats.capacity": Role.ADMIN,
}


def route_allows(user, endpoint: str) -> bool:
    access = ROUTE_ACCESS.get(endpoint)
    if access is None:
        return False
    if access == PUBLIC:
        return True
    return user.is_authenticated and bool(user.roles & access)


def _check_route():
    """before_request for the whole app: login and role gate from ROUTE_ACCESS."""
    endpoint = request.endpoint
    if endpoint is None:  # unknown URL: let Flask answer 404
        return None
    if ROUTE_ACCESS.get(endpoint) == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from crm.extensions import login_manager
        return login_manager.unauthorized()
    if not route_allows(current_user, endpoint):
        abort(403)
    return None


def init_app(app):
    app.before_request(_check_route)


# --- Members -------------------------------------------------------------------------------

def can_view_member(user, member) -> bool:
    """Open the full case file (identity included)."""
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id:
        return True
    return user.has_role(Role.VOLUNTEER) and member.owner_id == user.id


def can_edit_member(user, member) -> bool:
    """Volunteers edit their own caseload; supervisors their branch; admins all."""
    return can_view_member(user, member)


def can_verify_member(user, member) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id


def can_record_check(user, member, check: str) -> bool:
    """Consent is recorded by whoever looks after the member (DESIGN); the three checks by a supervisor."""
    if check == "consent":
        return can_edit_member(user, member)
    return can_verify_member(user, member)


def can_reassign_member(user, member) -> bool:
    return can_verify_member(user, member)


def can_assign_to(user, volunteer) -> bool:
    """Whether ``user`` may hand cases to ``volunteer``."""
    if not (volunteer.is_active_user and volunteer.has_role(Role.VOLUNTEER)):
        return False
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR)
                                         and volunteer.branch_id == user.branch_id)


def can_edit_note(user, note, member) -> bool:
    """The author may correct their note (the old text is kept); supervisors of the branch too."""
    return can_edit_member(user, member) and (note.author_id == user.id or can_verify_member(user, member))


def can_delete_note(user, note, member) -> bool:
    """Who may correct a note may also delete it (a soft deletion, kept in the audit) and undo that."""
    return can_edit_note(user, note, member)


def note_edit_check(user, member):
    """``can_edit_note`` (= ``can_delete_note``) for the many notes of one case file: the member-level checks once,
    then only the author test per note (the case file lists up to 50 notes; per note it cost two full checks)."""
    if not can_edit_member(user, member):
        return lambda note: False
    if can_verify_member(user, member):
        return lambda note: True
    user_id = user.id
    return lambda note: note.author_id == user_id


def visible_members_clause(user):
    """A SQL condition selecting the members whose case files ``user`` may open."""
    from crm.members.models import Member

    if user.has_role(Role.ADMIN):
        return true()
    conditions = []
    if user.has_role(Role.SUPERVISOR):
        conditions.append(Member.branch_id == user.branch_id)
    if user.has_role(Role.VOLUNTEER):
        conditions.append(Member.owner_id == user.id)
    return or_(*conditions) if conditions else false()


def can_view_team(user) -> bool:
    return bool(user.roles & MANAGERS)


# --- Pairings and follow-ups ------------------------------------------------------------------

def _supervises(user, member) -> bool:
    return user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id


def can_view_pairing(user, pairing) -> bool:
    """Each side's owner, supervisors of either member's branch, admins."""
    if user.has_role(Role.ADMIN):
        return True
    return any(_supervises(user, m) or (user.has_role(Role.VOLUNTEER) and m.owner_id == user.id)
               for m in pairing.members)


def can_move_pairing(user, pairing) -> bool:
    return can_view_pairing(user, pairing)


def can_print_cards(user, pairing) -> bool:
    """Introduction cards: whoever may act on a pairing, once both members said yes and while it is
    introduced or later (crm.cards.services.print_refusal says why not)."""
    return (pairing.both_consented and pairing.stage.is_introduced_or_later
            and all(m.shares_profile for m in pairing.members) and can_move_pairing(user, pairing))


def can_reopen_pairing(user, pairing) -> bool:
    """Reopening a closed introduction is a supervisor's act (DESIGN, "The pairing pipeline")."""
    return user.has_role(Role.ADMIN) or any(_supervises(user, m) for m in pairing.members)


def can_record_consent(user, pairing, member) -> bool:
    """A volunteer answers for their own member only; supervisors for their branch's members."""
    return pairing.involves(member) and can_edit_member(user, member)


def sees_identity(user, member) -> bool:
    """Whether a pairing page may show ``member`` with name and contacts (their case file is open to user)."""
    return can_view_member(user, member)


def sees_profile(user, member) -> bool:
    """Whether ``user`` may see anything of ``member``'s profile on an introduction (candidate view, shared
    profile, card). Their own case files always; the other side only while the member consents to processing
    and to sharing (Member.shares_profile, from the consent ledger), as the photo needs photo consent."""
    return member.shares_profile or sees_identity(user, member)


def visible_pairings_clause(user, low, high):
    """A SQL condition on a pairing whose two members are the aliases ``low`` and ``high``."""
    if user.has_role(Role.ADMIN):
        return true()
    conditions = []
    if user.has_role(Role.SUPERVISOR):
        conditions += [low.branch_id == user.branch_id, high.branch_id == user.branch_id]
    if user.has_role(Role.VOLUNTEER):
        conditions += [low.owner_id == user.id, high.owner_id == user.id]
    return or_(*conditions) if conditions else false()


def can_see_candidate(user, member) -> bool:
    """See ``member``'s candidate view (no identity): their own case files, or any member of a
    branch they may propose to (used by "why is X not suggested?")."""
    if can_view_member(user, member):
        return True
    allowed = proposable_branch_ids(user) if user.roles & CASEWORK else []
    return allowed is None or member.branch_id in allowed


def proposable_branch_ids(user) -> list[int] | None:
    """Branches whose active members ``user`` may propose to: own branch, its parent and its
    sub-stations. ``None`` means every branch (admins)."""
    from sqlalchemy import select

    from crm.auth.models import Branch
    from crm.extensions import db

    if user.has_role(Role.ADMIN):
        return None
    branch = user.branch
    ids = {branch.id} | ({branch.parent_id} if branch.parent_id else set())
    ids |= set(db.session.scalars(select(Branch.id).where(Branch.parent_id == branch.id)))
    return sorted(ids)


def can_view_followup(user, followup) -> bool:
    if followup.assignee_id == user.id or user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.SUPERVISOR) and followup.assignee.branch_id == user.branch_id


def can_complete_followup(user, followup) -> bool:
    return can_view_followup(user, followup)


# --- Counselling -----------------------------------------------------------------------------
# A referral is seen by its counsellor (and counsellors the case is shared with), by counsellors of
# the branch while it waits in the queue, and by whoever may open the member's case file (owner,
# branch supervisors, admins). Confidential notes are another matter: only the author counsellor
# and counsellors the author shared the case with read them (never supervisors, never admins);
# crm.counselling.queries.readable_notes is the only query that loads them.

def _counsels(user, referral) -> bool:
    return user.has_role(Role.COUNSELLOR) and (referral.counsellor_id == user.id
                                               or user.id in referral.shared_with_ids)


def _in_queue_for(user, referral) -> bool:
    return (user.has_role(Role.COUNSELLOR) and referral.status.value == "open"
            and referral.counsellor_id is None and referral.branch_id == user.branch_id)


def can_view_referral(user, referral) -> bool:
    """That a referral exists, its sessions' dates, shareable summaries and risk levels."""
    return _counsels(user, referral) or _in_queue_for(user, referral) or can_view_member(user, referral.member)


def can_view_member_profile(user, referral) -> bool:
    """A counsellor reads the referred member's profile, read-only; counsellors never edit profiles."""
    return _counsels(user, referral) or _in_queue_for(user, referral)


def can_refer_member(user, member) -> bool:
    return bool(user.roles & CASEWORK) and can_edit_member(user, member)


def can_accept_referral(user, referral) -> bool:
    return _in_queue_for(user, referral)


def can_assign_referral(user, referral) -> bool:
    if referral.status.value == "closed":
        return False
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR) and referral.branch_id == user.branch_id)


def can_counsel_in(counsellor, referral) -> bool:
    """Whether ``counsellor`` may be given ``referral``: an active counsellor of its branch."""
    return (counsellor.is_active_user and counsellor.has_role(Role.COUNSELLOR)
            and counsellor.branch_id == referral.branch_id)


def can_close_referral(user, referral) -> bool:
    if referral.status.value == "closed":
        return False
    return (user.has_role(Role.COUNSELLOR) and referral.counsellor_id == user.id) or can_assign_referral(user, referral)


def can_log_session(user, referral) -> bool:
    return (user.has_role(Role.COUNSELLOR) and referral.status.value == "accepted"
            and referral.counsellor_id == user.id)


def can_share_case(user, referral) -> bool:
    return user.has_role(Role.COUNSELLOR) and referral.counsellor_id == user.id


def can_share_with(user, referral, counsellor) -> bool:
    return (can_share_case(user, referral) and counsellor.id != user.id and counsellor.is_active_user
            and counsellor.has_role(Role.COUNSELLOR) and counsellor.id not in referral.shared_with_ids)


def can_read_session_notes(user, session, referral) -> bool:
    """The author, or a counsellor the author shared the case with. Mirrors queries.readable_notes."""
    if not user.has_role(Role.COUNSELLOR):
        return False
    return session.counsellor_id == user.id or any(
        s.counsellor_id == user.id and s.shared_by_id == session.counsellor_id for s in referral.shares)


def can_acknowledge_risk(user, alert) -> bool:
    return (user.has_role(Role.SUPERVISOR) and alert.branch_id == user.branch_id
            and alert.acknowledged_at is None)


# --- Mixer events (crm.events) ---------------------------------------------------------------
# Every caseworker sees the list of events (nothing personal on it). The hosting branches run an
# event: their supervisors (and admins) change it, their staff check people in at the door and see
# the report. Volunteers sign up, and enter the choices of, only members whose case files they keep;
# a one-sided choice is therefore seen only by the chooser's side, never by the chosen member's.

def can_create_event(user) -> bool:
    return bool(user.roles & MANAGERS)


def can_manage_event(user, event) -> bool:
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR) and user.branch_id in event.host_ids)


def can_run_event(user, event) -> bool:
    return user.has_role(Role.ADMIN) or (bool(user.roles & CASEWORK) and user.branch_id in event.host_ids)


def can_register_member(user, member) -> bool:
    return bool(user.roles & CASEWORK) and can_edit_member(user, member)


def can_enter_choices(user, event, chooser) -> bool:
    return bool(user.roles & CASEWORK) and can_edit_member(user, chooser)


# --- Privacy (crm.privacy) -----------------------------------------------------------------

def can_see_photo(user, member, pairing=None) -> bool:
    """Staff who may open the case file see the photo there. The other side of an introduction sees
    it only while the member consents to photo sharing (Member.photo_consent, from the consent
    ledger) and to sharing their profile at all (sees_profile), and agreed to share it in this
    introduction, once both said yes."""
    if member.photo_path is None or member.erased_at is not None:
        return False
    if pairing is None:
        return can_view_member(user, member)
    return (pairing.involves(member) and member.photo_consent and member.shares_profile and pairing.both_consented
            and bool(getattr(pairing.consent_for(member), "share_photo", False))
            and can_view_member(user, pairing.other(member)))


def can_export_member(user, member) -> bool:
    """A copy of the member's data for the member (access right): whoever keeps the case file."""
    return member.erased_at is None and can_edit_member(user, member)


def can_erase_member(user, member) -> bool:
    """Erasure is a supervisor's (own branch) or an admin's act."""
    if member.erased_at is not None:
        return False
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR) and member.branch_id == user.branch_id)


# --- Intake ----------------------------------------------------------------------------------

def can_decide_application(user, application) -> bool:
    """See, accept or reject a self-registration: supervisors of its branch, admins."""
    return user.has_role(Role.ADMIN) or (user.has_role(Role.SUPERVISOR) and application.branch_id == user.branch_id)
