"""Per-branch matching settings: the score weights an admin tuned for a branch."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from crm.clock import now_utc
from crm.extensions import db
from crm.matching.scoring import Weights


class MatchingSettings(db.Model):
    __tablename__ = "matching_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), unique=True)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Optimistic locking of the weights page (0 in the form: the branch had no settings row yet).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def as_weights(self) -> Weights:
        return Weights.from_dict(self.weights)
