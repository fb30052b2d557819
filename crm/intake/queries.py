"""Reads for the intake queue."""

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from crm.auth.models import Branch, Role, User
from crm.extensions import db
from crm.intake.models import ApplicationStatus, IntakeApplication


def application(application_id: int) -> IntakeApplication | None:
    return db.session.scalars(select(IntakeApplication).where(IntakeApplication.id == application_id)
                              .options(joinedload(IntakeApplication.branch))).first()


def queue(user, status: ApplicationStatus = ApplicationStatus.PENDING, limit: int = 200) -> list[IntakeApplication]:
    """Applications of the user's branch (admins: every branch), oldest waiting first."""
    query = (select(IntakeApplication).where(IntakeApplication.status == status)
             .options(joinedload(IntakeApplication.branch)))
    if not user.has_role(Role.ADMIN):
        query = query.where(IntakeApplication.branch_id == user.branch_id)
    order = (IntakeApplication.submitted_at.asc() if status is ApplicationStatus.PENDING
             else IntakeApplication.decided_at.desc())
    return list(db.session.scalars(query.order_by(order, IntakeApplication.id).limit(limit)))


def branch_volunteers(branch_id: int) -> list[User]:
    return list(db.session.scalars(User.with_role(Role.VOLUNTEER).where(User.branch_id == branch_id)
                                   .order_by(User.display_name)))


def branches() -> list[Branch]:
    return list(db.session.scalars(select(Branch).order_by(Branch.city, Branch.name)))


def same_person(application: IntakeApplication) -> list[IntakeApplication]:
    """Other applications with the same ID fingerprint or phone (someone who applied twice)."""
    return list(db.session.scalars(
        select(IntakeApplication)
        .where(or_(IntakeApplication.id_hash == application.id_hash, IntakeApplication.phone == application.phone),
               IntakeApplication.id != application.id)
        .order_by(IntakeApplication.submitted_at).limit(20)))
