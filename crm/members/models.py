"""The member case file: identity, profile, verification, owner history and notes."""

import hashlib
import hmac
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Branch, User
from crm.clock import now_utc, today
from crm.enums import LabelledEnum, enum_type, values_check
from crm.extensions import db


class Gender(LabelledEnum):
    MALE = "male"
    FEMALE = "female"

    @classmethod
    def _labels(cls):
        return {"male": _l("Male"), "female": _l("Female")}


class Education(LabelledEnum):
    JUNIOR = "junior"
    HIGH_SCHOOL = "high_school"
    ASSOCIATE = "associate"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"

    @classmethod
    def _labels(cls):
        return {"junior": _l("Junior high or below"), "high_school": _l("High school / vocational"),
                "associate": _l("Associate degree"), "bachelor": _l("Bachelor's degree"),
                "master": _l("Master's degree"), "doctorate": _l("Doctorate")}

    @property
    def rank(self) -> int:
        return list(Education).index(self)


class MaritalHistory(LabelledEnum):
    NEVER = "never"
    DIVORCED = "divorced"
    WIDOWED = "widowed"

    @classmethod
    def _labels(cls):
        return {"never": _l("Never married"), "divorced": _l("Divorced"), "widowed": _l("Widowed")}


class Tier(LabelledEnum):
    STANDARD = "standard"
    UNIT = "unit"

    @classmethod
    def _labels(cls):
        return {"standard": _l("Standard"), "unit": _l("Unit membership")}


class MemberStatus(LabelledEnum):
    INTAKE = "intake"
    ACTIVE = "active"
    PAUSED = "paused"
    IN_RELATIONSHIP = "in_relationship"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {"intake": _l("Intake"), "active": _l("Active"), "paused": _l("Paused"),
                "in_relationship": _l("In a relationship"), "closed": _l("Closed")}

    def choosable_by_hand(self) -> list["MemberStatus"]:
        """The statuses a user may give a case file that has this one. "In a relationship" belongs to the
        pairing pipeline (crm.pairings.pipeline sets and clears it), so such a case file may only be closed."""
        if self is MemberStatus.IN_RELATIONSHIP:
            return [MemberStatus.CLOSED]
        return [s for s in MemberStatus if s is not MemberStatus.IN_RELATIONSHIP]


class CloseReason(LabelledEnum):
    MARRIED = "married"
    WITHDREW = "withdrew"
    MOVED_AWAY = "moved_away"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {"married": _l("Married"), "withdrew": _l("Withdrew"),
                "moved_away": _l("Moved away"), "other": _l("Other")}


class NoteKind(LabelledEnum):
    CALL = "call"
    MEETING = "meeting"
    WECHAT = "wechat"
    VISIT = "visit"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {"call": _l("Phone call"), "meeting": _l("Meeting"), "wechat": _l("WeChat"),
                "visit": _l("Visit"), "other": _l("Other")}


def id_number_hash(secret: str, id_number: str) -> str:
    """A keyed hash of a normalised ID-card number, for duplicate detection without keeping it."""
    normalised = id_number.strip().upper().encode()
    return hmac.new(secret.encode(), normalised, hashlib.sha256).hexdigest()


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("height_cm IS NULL OR height_cm BETWEEN 120 AND 230", name="height_range"),
        CheckConstraint("pref_age_min IS NULL OR pref_age_max IS NULL OR pref_age_min <= pref_age_max",
                        name="pref_age_order"),
        CheckConstraint("pref_height_min IS NULL OR pref_height_max IS NULL OR pref_height_min <= pref_height_max",
                        name="pref_height_order"),
        CheckConstraint("children_count >= 0", name="children_count_not_negative"),
        CheckConstraint(values_check("status", MemberStatus), name="status_known"),
        Index("ix_members_owner_contact", "owner_id", "last_contact_at"),
        # Covering: the board's visibility check reads a pairing's members by id for branch and owner only
        # (crm.pairings.queries; the branch board's card ids: ~15 ms of SQLite CPU -> ~8 at 100,000 members).
        Index("ix_members_id_scope", "id", "branch_id", "owner_id"),
        # With the id: PostgreSQL's indexes do not carry the row's key (SQLite's carry the rowid), and the
        # statements on a branch's members by status want their ids (crm.stats.queries, migration d7e3b5a1c9f2).
        Index("ix_members_branch_status", "branch_id", "status", "id"),
        # The dashboard's neglected members: a branch's active members not attended to since the cut-off, with
        # their last note, from this index alone (crm.members.attention).
        Index("ix_members_attention", "branch_id", "status", "attended_at", "followup_due_on", "last_note_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    branch: Mapped[Branch] = relationship()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    # Identity
    name: Mapped[str] = mapped_column(String(40))
    name_pinyin: Mapped[str] = mapped_column(String(160), index=True)
    name_initials: Mapped[str] = mapped_column(String(40), index=True)
    gender: Mapped[Gender] = mapped_column(enum_type(Gender))
    birth_date: Mapped[date] = mapped_column(index=True)
    phone: Mapped[str] = mapped_column(String(20))
    phone_last4: Mapped[str] = mapped_column(String(4), index=True)
    wechat_id: Mapped[str | None] = mapped_column(String(40))
    id_last4: Mapped[str | None] = mapped_column(String(4))
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    # Work and union
    employer: Mapped[str] = mapped_column(String(100))
    union_name: Mapped[str | None] = mapped_column(String(100))
    is_union_member: Mapped[bool] = mapped_column(default=True)
    occupation_category: Mapped[str] = mapped_column(String(24))
    occupation: Mapped[str | None] = mapped_column(String(60))
    education: Mapped[Education] = mapped_column(enum_type(Education))
    tier: Mapped[Tier] = mapped_column(enum_type(Tier), default=Tier.STANDARD)

    # Profile
    height_cm: Mapped[int | None]
    hometown: Mapped[str | None] = mapped_column(String(60))
    work_city: Mapped[str] = mapped_column(String(20))
    work_district: Mapped[str] = mapped_column(String(20))
    home_city: Mapped[str] = mapped_column(String(20))
    home_district: Mapped[str] = mapped_column(String(20))
    settle_city: Mapped[str | None] = mapped_column(String(20))
    marital_history: Mapped[MaritalHistory] = mapped_column(enum_type(MaritalHistory))
    children_count: Mapped[int] = mapped_column(default=0)
    self_intro: Mapped[str | None] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(200))
    photo_consent: Mapped[bool] = mapped_column(default=False)
    interests: Mapped[list] = mapped_column(JSON, default=list)
    values_answers: Mapped[dict] = mapped_column(JSON, default=dict)
    opt_out_suggestions: Mapped[bool] = mapped_column(default=False)
    # Current consents, copied from the ledger (crm.privacy.models.MemberConsent) by
    # crm.privacy.services.record_consent only; photo_consent above is the photo purpose's copy.
    # Members without ledger rows count as having given processing and sharing (the legacy default;
    # the "consent" verification still gates suggestions). consent_versions: {purpose: text version given}.
    processing_consent: Mapped[bool] = mapped_column(default=True, server_default=true())
    sharing_consent: Mapped[bool] = mapped_column(default=True, server_default=true())
    consent_versions: Mapped[dict | None] = mapped_column(JSON, default=dict)
    # Set when crm.privacy.erasure anonymised the record: the row stays for statistics only.
    erased_at: Mapped[datetime | None]

    # Partner preferences (must-haves)
    pref_age_min: Mapped[int | None]
    pref_age_max: Mapped[int | None]
    pref_height_min: Mapped[int | None]
    pref_height_max: Mapped[int | None]
    pref_min_education: Mapped[Education | None] = mapped_column(enum_type(Education))
    pref_districts: Mapped[list] = mapped_column(JSON, default=list)
    pref_accepts_divorced: Mapped[bool] = mapped_column(default=True)
    pref_accepts_children: Mapped[bool] = mapped_column(default=False)

    # Status
    status: Mapped[MemberStatus] = mapped_column(enum_type(MemberStatus), default=MemberStatus.INTAKE)
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_type(CloseReason))

    # Verification and consent: when and by whom
    realname_verified_at: Mapped[datetime | None]
    realname_verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    employer_verified_at: Mapped[datetime | None]
    employer_verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pledge_signed_at: Mapped[datetime | None]
    pledge_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_at: Mapped[datetime | None]
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Indexed: the suggestion index's freshness stamp reads max(updated_at) on every request (crm.matching).
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc, index=True)
    last_contact_at: Mapped[datetime | None]
    # When the member was last attended to (a case note, a proposed introduction, a follow-up), kept by
    # crm.members.attention for the dashboard's neglected members; written outside the member's version.
    last_note_at: Mapped[datetime | None]
    attended_at: Mapped[datetime | None]
    followup_due_on: Mapped[date | None]

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Member {self.id}>"

    @property
    def age(self) -> int:
        t = today()
        return t.year - self.birth_date.year - ((t.month, t.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def is_verified(self) -> bool:
        return all((self.realname_verified_at, self.employer_verified_at, self.pledge_signed_at))

    @property
    def is_ready_to_activate(self) -> bool:
        return self.is_verified and self.consent_at is not None

    @property
    def shares_profile(self) -> bool:
        """Consents (still) to data processing and to sharing their profile with other members: without either,
        the other side of an introduction sees nothing of them (crm.auth.policy.sees_profile)."""
        return bool(self.processing_consent and self.sharing_consent)

    @property
    def can_be_introduced(self) -> bool:
        """Free to meet someone new: active (so not paused, in a relationship or closed), verified, and sharing
        their profile (match suggestions filter on the same consents)."""
        return self.status is MemberStatus.ACTIVE and self.is_verified and self.shares_profile

    @property
    def verification_count(self) -> int:
        return sum(1 for at in (self.realname_verified_at, self.employer_verified_at,
                                self.pledge_signed_at, self.consent_at) if at)

    @property
    def courtesy_name(self) -> str:
        """李先生 / 王女士: the surname and a title, for when the full name may not be shown."""
        title = "先生" if self.gender is Gender.MALE else "女士"
        return f"{self.name[:1]}{title}"


class Assignment(db.Model):
    """One change of owner. Reassignment appends here; it never edits notes or history."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    by: Mapped[User] = relationship(foreign_keys=[by_id])
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=now_utc)


class Note(db.Model):
    __tablename__ = "notes"
    __table_args__ = (
        # deleted_at in the index: the queries that skip deleted notes stay index-only (case file, statistics)
        Index("ix_notes_member_created", "member_id", "created_at", "deleted_at"),
        CheckConstraint("(deleted_at IS NULL) = (deleted_by_id IS NULL)", name="deletion_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # Set when the note is about an introduction (crm.pairings); the note still belongs to one member.
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    kind: Mapped[NoteKind] = mapped_column(enum_type(NoteKind))
    body: Mapped[str] = mapped_column(Text)
    contact_on: Mapped[date] = mapped_column(default=today)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    edited_at: Mapped[datetime | None]
    # Soft deletion (undo-able): a deleted note leaves the case file, pairing pages and statistics but stays
    # here, with who deleted it, until restored or until the member is erased (crm.privacy.erasure).
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revisions: Mapped[list["NoteRevision"]] = relationship(order_by="NoteRevision.id",
                                                            cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class NoteRevision(db.Model):
    """The text a note had before an edit: notes are never changed silently."""

    __tablename__ = "note_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(default=now_utc)
    replaced_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


# --- Searching names by any part ----------------------------------------------------------------

#: Substrings up to this length are kept per member; a longer query looks up its first GRAM_MAX characters.
GRAM_MAX = 4


class MemberNameGram(db.Model):
    """Every substring (1 to GRAM_MAX characters, lowercased) of a member's name: search by any part of a
    Chinese name (the given name without the surname, one character) is one index seek instead of a
    ``name LIKE '%...%'`` scan of every visible member. About 6 rows per member; kept by the mapper events
    below for every ORM write of a name (services, intake acceptance, erasure's pseudonym, factories) and by
    ``rebuild_name_grams`` for bulk inserts (roster import, bench data, the migration). Portable: plain
    B-tree on both databases, no FTS5 or pg_trgm extension needed."""

    __tablename__ = "member_name_grams"

    gram: Mapped[str] = mapped_column(String(GRAM_MAX * 4), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


def name_grams(name: str | None) -> set[str]:
    text = (name or "").strip().lower()
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, min(len(text), i + GRAM_MAX) + 1)}


def write_name_grams(connection, members) -> int:
    """Replace the grams of ``members`` [(id, name)] in one DELETE and one INSERT; returns the rows written."""
    members = list(members)
    if not members:
        return 0
    table = MemberNameGram.__table__
    rows = [{"gram": g, "member_id": mid} for mid, name in members for g in name_grams(name)]
    ids = [mid for mid, _name in members]
    for start in range(0, len(ids), 500):
        connection.execute(table.delete().where(table.c.member_id.in_(ids[start:start + 500])))
    if rows:
        connection.execute(table.insert(), rows)
    return len(rows)


def rebuild_name_grams(connection, where=None) -> int:
    """Grams for every member (or those matching ``where``) from their current names: bulk writers."""
    from sqlalchemy import select

    stmt = select(Member.__table__.c.id, Member.__table__.c.name)
    if where is not None:
        stmt = stmt.where(where)
    done, batch = 0, []
    for row in connection.execute(stmt):
        batch.append(tuple(row))
        if len(batch) == 5000:
            done += write_name_grams(connection, batch)
            batch = []
    return done + write_name_grams(connection, batch)


def _grams_after_insert(_mapper, connection, member):
    write_name_grams(connection, [(member.id, member.name)])


def _grams_after_update(_mapper, connection, member):
    from sqlalchemy import inspect

    if inspect(member).attrs.name.history.has_changes():
        write_name_grams(connection, [(member.id, member.name)])


db.event.listen(Member, "after_insert", _grams_after_insert)
db.event.listen(Member, "after_update", _grams_after_update)
