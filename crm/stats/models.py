"""The dashboard's per-pairing facts: what each pair contributes to the dashboard's history figures,
one row per branch it belongs to (and once for the whole union), kept by crm.stats.facts."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class PairingFact(db.Model):
    """One fact of one pairing, filed under a scope: a branch id, or 0 for the whole union.

    A pair belongs to the branches of both its members, so its facts are filed once under each
    (once when both are in the same branch) and once under 0; a branch's dashboard then reads one
    range of ``ix_stats_pairing_facts_read`` instead of building the branch's ~20,000 pairing ids and
    probing the history for each. Kinds (crm.stats.facts): the proposal cohort, first moves into the
    trends' stages, the days spent at a stage (the median), closes by reason. Derived data only,
    recomputed per pairing from ``pairings``, ``pairing_stage_firsts`` and ``stage_changes``; no
    personal content."""

    __tablename__ = "stats_pairing_facts"
    # AUTOINCREMENT on SQLite: ids are never reused after a delete, so max(id) moves on every refresh
    # (the dashboard cache's stamp reads it; crm.stats.cache).
    __table_args__ = (Index("ix_stats_pairing_facts_read", "scope_id", "kind", "at", "stage", "value", "pairing_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int]  # a branch id, or 0: the whole union (no foreign key: 0 is not a branch)
    kind: Mapped[int]
    at: Mapped[datetime]
    stage: Mapped[str | None] = mapped_column(String(32))  # a stage, or a close reason (None: not given)
    value: Mapped[float | None] = mapped_column(Float)  # days at the stage (dwell), the furthest stage's rank (cohort)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)


# --- indexes the dashboard's per-member and per-volunteer statements need on other areas' tables ---
# (declared here, beside the statements that need them; the migration a6f3c9d2e71b creates them.)
# Measured on the 100,000-member copy with EXPLAIN QUERY PLAN: each turns a per-row table lookup into
# a covering-index seek.

def _dashboard_indexes() -> None:
    from crm.followups.models import FollowUp
    from crm.members.models import Member
    from crm.pairings.models import Pairing, PairingConsent

    # Volunteers table: open caseload = members by owner whose status is not closed; with the id, which
    # PostgreSQL's indexes do not carry (a volunteer's board and overdue consents start from these ids).
    Index("ix_members_owner_status", Member.owner_id, Member.status, Member.id)
    # Neglected members: "no introduction proposed since the cut-off", on either side of the pair.
    Index("ix_pairings_low_created", Pairing.member_low_id, Pairing.created_at)
    Index("ix_pairings_high_created", Pairing.member_high_id, Pairing.created_at)
    # Neglected members: "no follow-up created, due or done since the cut-off".
    Index("ix_followups_member_activity", FollowUp.member_id, FollowUp.created_at, FollowUp.due_on,
          FollowUp.done_at)
    # Volunteers table: unanswered consent requests of a volunteer's members on pairings awaiting consent
    # (the consent's copy of the pairing's stage), asked before the cut-off.
    Index("ix_pairing_consents_member_pending", PairingConsent.member_id, PairingConsent.answer,
          PairingConsent.pairing_stage, PairingConsent.asked_at)


_dashboard_indexes()
