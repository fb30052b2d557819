"""Applications: submit (public), accept into a caseload or the pool, reject. Services flush; views commit."""

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from crm.audit.services import record
from crm.auth import policy
from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.intake.models import ApplicationStatus, IntakeApplication
from crm.members.models import Assignment, Education, Gender, MaritalHistory, Member, MemberStatus, id_number_hash
from crm.members.pinyin import name_keys
from crm.privacy.services import record_consent
from crm.privacy.texts import Channel, Purpose, current_versions

log = logging.getLogger(__name__)

_CONSENT_FIELDS = {Purpose.PROCESSING: "consent_processing", Purpose.SHARING: "consent_sharing",
                   Purpose.PHOTO: "consent_photo"}


def find_duplicate_member(id_hash: str | None, phone: str) -> Member | None:
    conditions = [Member.phone == phone]
    if id_hash:
        conditions.append(Member.id_hash == id_hash)
    return db.session.scalars(select(Member).where(or_(*conditions)).order_by(Member.id).limit(1)).first()


def submit_application(form, branch) -> IntakeApplication:
    """Store a validated public application; a duplicate of a member is flagged, never created twice."""
    id_hash = id_number_hash(current_app.config["SECRET_KEY"], form.id_number.data)
    work_city, _, work_district = form.work_area.data.partition("/")
    home_city, _, home_district = form.home_area.data.partition("/")
    versions = current_versions()
    application = IntakeApplication(
        branch_id=branch.id, name=form.name.data, gender=Gender(form.gender.data), birth_date=form.birth_date.data,
        phone=form.phone.data, wechat_id=form.wechat_id.data or None, id_last4=form.id_number.data[-4:].upper(),
        id_hash=id_hash, employer=form.employer.data, union_name=form.union_name.data or None,
        occupation_category=form.occupation_category.data, education=Education(form.education.data),
        marital_history=MaritalHistory(form.marital_history.data), height_cm=form.height_cm.data,
        work_city=work_city, work_district=work_district, home_city=home_city, home_district=home_district,
        self_intro=form.self_intro.data or None, interests=list(form.interests.data or []),
        consent_processing=bool(form.consent_processing.data), consent_sharing=bool(form.consent_sharing.data),
        consent_photo=bool(form.consent_photo.data),
        consent_versions={p.value: versions[p.value] for p, attr in _CONSENT_FIELDS.items()
                          if getattr(form, attr).data},
    )
    duplicate = find_duplicate_member(id_hash, form.phone.data)
    application.duplicate_member_id = duplicate.id if duplicate else None
    db.session.add(application)
    db.session.flush()
    record(None, "intake.apply", application, branch_id=branch.id, duplicate_of=application.duplicate_member_id)
    log.info("application %r for branch %s (duplicate of %s)", application, branch.id, application.duplicate_member_id)
    return application


def refresh_duplicate(application: IntakeApplication) -> None:
    """Look again: a member with the same identity may have been created since the application arrived."""
    if application.status is not ApplicationStatus.PENDING:
        return
    duplicate = find_duplicate_member(application.id_hash, application.phone)
    application.duplicate_member_id = duplicate.id if duplicate else None


def _check_pending(application):
    if application.status is not ApplicationStatus.PENDING:
        raise Refusal(_l("This application has already been decided."))


def _claim(application, status: ApplicationStatus, by, **values) -> None:
    """Decide the application if it is still pending, as one conditional UPDATE: of two supervisors
    deciding at the same moment, the second finds it decided (the row lock makes it wait on PostgreSQL)
    and nothing of theirs is written."""
    result = db.session.execute(
        update(IntakeApplication)
        .where(IntakeApplication.id == application.id, IntakeApplication.status == ApplicationStatus.PENDING)
        .values(status=status, decided_at=now_utc(), decided_by_id=by.id, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refusal(_l("This application has already been decided."))
    db.session.refresh(application)


def accept_application(application: IntakeApplication, *, by, owner=None) -> Member:
    """Create the member (status intake, not yet verified) in ``owner``'s caseload or the branch pool."""
    _check_pending(application)
    if owner is not None and not policy.can_assign_to(by, owner):
        raise Refusal(_l("You cannot assign cases to this user."), field="owner_id")
    refresh_duplicate(application)
    if application.duplicate_member_id is not None:
        raise Refusal(_l("This person is already a member. Reject the application as a duplicate."),
                      field="owner_id")
    pinyin, initials = name_keys(application.name)
    member = Member(
        branch_id=owner.branch_id if owner is not None else application.branch_id,
        owner_id=owner.id if owner is not None else None, status=MemberStatus.INTAKE,
        name=application.name, name_pinyin=pinyin, name_initials=initials, gender=application.gender,
        birth_date=application.birth_date, phone=application.phone, phone_last4=application.phone[-4:],
        wechat_id=application.wechat_id, id_last4=application.id_last4, id_hash=application.id_hash,
        employer=application.employer, union_name=application.union_name,
        occupation_category=application.occupation_category, education=application.education,
        marital_history=application.marital_history, height_cm=application.height_cm,
        work_city=application.work_city, work_district=application.work_district,
        home_city=application.home_city, home_district=application.home_district,
        self_intro=application.self_intro, interests=list(application.interests or []),
    )
    db.session.add(member)
    db.session.flush()
    if owner is not None:
        db.session.add(Assignment(member_id=member.id, to_user_id=owner.id, by_id=by.id,
                                  reason=str(_l("Self-registration"))))
    record(by, "member.create", member, source="self_registration", application_id=application.id)
    # The consents the applicant gave, to the text versions they saw, into the ledger (recorded by
    # nobody: the applicant gave them themselves); the ones not given are recorded as refused.
    for purpose, attr in _CONSENT_FIELDS.items():
        given = bool(getattr(application, attr))
        record_consent(member, purpose, given, Channel.SELF_REGISTRATION, None,
                       text_version=(application.consent_versions or {}).get(purpose.value))
    _claim(application, ApplicationStatus.ACCEPTED, by, member_id=member.id)
    record(by, "intake.accept", application, member_id=member.id, owner_id=member.owner_id)
    log.info("accepted %r as %r by %r", application, member, by)
    return member


def reject_application(application: IntakeApplication, *, by, reason: str) -> None:
    _check_pending(application)
    _claim(application, ApplicationStatus.REJECTED, by, reject_reason=reason)
    record(by, "intake.reject", application, reason=reason)
