"""Reading follow-ups: the list with its filters, the dashboard counts, the calendar feed."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.auth import policy
from crm.auth.models import User
from crm.clock import today
from crm.extensions import db
from crm.followups.models import FollowUp

LIST_LIMIT = 200


def followups(user, scope: str = "mine", show: str = "open") -> list[FollowUp]:
    stmt = select(FollowUp).options(joinedload(FollowUp.member), joinedload(FollowUp.assignee))
    if scope == "branch" and policy.can_view_team(user):
        stmt = stmt.join(User, User.id == FollowUp.assignee_id).where(User.branch_id == user.branch_id)
    else:
        stmt = stmt.where(FollowUp.assignee_id == user.id)
    t = today()
    if show == "done":
        stmt = stmt.where(FollowUp.done_at.is_not(None)).order_by(FollowUp.done_at.desc())
    else:
        stmt = stmt.where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_on, FollowUp.id)
        if show == "overdue":
            stmt = stmt.where(FollowUp.due_on < t)
        elif show == "today":
            stmt = stmt.where(FollowUp.due_on == t)
    return list(db.session.scalars(stmt.limit(LIST_LIMIT)))


def dashboard_counts(user) -> tuple[int, int]:
    """(due today, overdue) among the user's open follow-ups, in one statement."""
    t = today()
    row = db.session.execute(
        select(func.count().filter(FollowUp.due_on == t), func.count().filter(FollowUp.due_on < t))
        .where(FollowUp.assignee_id == user.id, FollowUp.done_at.is_(None), FollowUp.due_on <= t)).one()
    return row[0], row[1]


def feed_items(user) -> list[FollowUp]:
    return list(db.session.scalars(
        select(FollowUp).options(joinedload(FollowUp.member))
        .where(FollowUp.assignee_id == user.id, FollowUp.done_at.is_(None)).order_by(FollowUp.due_on)))


def user_by_token(token: str) -> User | None:
    if not token or len(token) < 20:
        return None
    return db.session.scalars(select(User).where(User.ics_token == token, User.is_active_user.is_(True))).first()
