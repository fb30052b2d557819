"""Erasure and retention: the person disappears from every table and the upload folder, the
statistics stay, the audit trail stays pseudonymous, and no table can be forgotten silently."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import JSON, Enum, String, Text, func, select, text

from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.clock import now_utc, today
from crm.counselling.models import CounsellingSession
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.matching import service as matching
from crm.members.models import Assignment, Gender, Member, MemberStatus, Note, NoteKind, NoteRevision
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, Stage, StageChange
from crm.privacy import erasure, photos, services
from crm.privacy.models import MemberConsent
from crm.privacy.texts import Channel, Purpose
from tests.counselling.helpers import make_referral, make_session
from tests.factories import make_member, make_note, make_user

M = "QXMARK"  # the marker: ASCII, so it shows in any dump whatever the escaping


# --- Every table that refers to a member is handled ---------------------------------------------

def _referring_tables():
    """Tables that refer to members directly or through a chain of foreign keys."""
    tables = db.metadata.tables
    reached = {"members"}
    while True:
        more = {t.name for t in tables.values() if t.name not in reached
                and any(fk.column.table.name in reached for fk in t.foreign_keys)}
        if not more:
            return reached
        reached |= more


def test_every_table_that_refers_to_a_member_is_handled_by_erasure(app):
    with app.app_context():
        missing = sorted(_referring_tables() - set(erasure.TABLES))
    assert not missing, f"say in crm.privacy.erasure.TABLES and COLUMNS how erasure handles: {missing}"


def test_every_text_column_of_those_tables_is_classified(app):
    with app.app_context():
        unclassified = []
        for name in sorted(_referring_tables()):
            policy = erasure.COLUMNS.get(name)
            if policy == "deleted":
                continue
            assert policy is not None, f"crm.privacy.erasure.COLUMNS has no entry for {name}"
            for column in db.metadata.tables[name].columns:
                textual = isinstance(column.type, String | Text | JSON) and not isinstance(column.type, Enum)
                if textual and column.name not in policy:
                    unclassified.append(f"{name}.{column.name}")
    assert not unclassified, f"classify these columns in crm.privacy.erasure.COLUMNS: {unclassified}"


# --- The marker test ------------------------------------------------------------------------------

def _jpeg_with_marker() -> bytes:
    from PIL import Image
    exif = Image.Exif()
    exif[0x010E] = M  # ImageDescription
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


class Upload:
    def __init__(self, data):
        self.stream = io.BytesIO(data)


@pytest.fixture
def world(app, db, photo_dir):
    vol = make_user("volunteer")
    other_vol = make_user("volunteer", branch=vol.branch)
    counsellor = make_user("counsellor", branch=vol.branch)
    member = make_member(
        owner=vol, gender=Gender.FEMALE, name=f"马{M}", phone=f"139{M}", wechat_id=f"wx{M}",
        id_last4="0042", employer=f"{M}集团", union_name=f"{M}工会", occupation=f"{M}工程师",
        hometown=f"{M}镇", work_district=f"{M}区", home_district=f"{M}街", self_intro=f"我是{M}，喜欢爬山。",
        interests=[M, "hiking"], values_answers={M: 3}, pref_districts=[f"杭州市/{M}"], name_pinyin=f"ma{M}".lower(),
        name_initials="m")
    other = make_member(owner=other_vol, gender=Gender.MALE, name="赵先生")
    third = make_member(owner=other_vol, gender=Gender.MALE, name="钱先生")
    note = make_note(member, vol, body=f"第一次电话：{M} 很健谈")
    db.session.add(NoteRevision(note_id=note.id, body=f"旧版本 {M}", replaced_by_id=vol.id))
    db.session.add(Assignment(member_id=member.id, from_user_id=None, to_user_id=vol.id, by_id=vol.id,
                              reason=f"交接 {M}"))
    services.record_consent(member, Purpose.PHOTO, True, Channel.PAPER, vol, comment=f"签字 {M}")
    services.record_consent(member, Purpose.SHARING, True, Channel.PAPER, vol)
    pairings = []
    for partner, stage in ((other, Stage.DATING), (third, Stage.CLOSED)):
        low, high = sorted((member.id, partner.id))
        p = Pairing(member_low_id=low, member_high_id=high, stage=stage, proposed_by_id=vol.id)
        db.session.add(p)
        db.session.flush()
        db.session.add_all([
            PairingConsent(pairing_id=p.id, member_id=member.id, answer=ConsentAnswer.YES, share_photo=True),
            PairingConsent(pairing_id=p.id, member_id=partner.id, answer=ConsentAnswer.YES),
            StageChange(pairing_id=p.id, from_stage=None, to_stage=stage, by_id=vol.id, note=f"见面很顺利 {M}")])
        pairings.append(p)
    # The other member's volunteer writes about the introduction, naming her.
    make_note(other, other_vol, body=f"和马{M}见面了，感觉不错", pairing_id=pairings[0].id)
    db.session.add_all([
        FollowUp(due_on=today(), assignee_id=vol.id, member_id=member.id, title=f"回访 {M}", outcome=f"{M} 满意"),
        FollowUp(due_on=today(), assignee_id=vol.id, pairing_id=pairings[0].id, title=f"约会后 {M}")])
    referral = make_referral(member, vol, counsellor=counsellor, reason=f"情绪 {M}", outcome=f"好转 {M}")
    make_session(referral, counsellor, notes=f"机密 {M}", shareable_summary=f"摘要 {M}")
    photos.store_photo(member, Upload(_jpeg_with_marker()), vol)
    applications = db.metadata.tables.get("intake_applications")
    if applications is not None:  # the self-registration the member came from (crm.intake)
        db.session.execute(applications.insert().values(
            branch_id=member.branch_id, status="accepted", name=f"马{M}", gender="female", birth_date=member.birth_date,
            phone=f"139{M}", wechat_id=f"wx{M}", id_last4="0042", id_hash="0" * 64, employer=f"{M}集团",
            occupation_category="engineering", education="bachelor", marital_history="never", work_city="杭州市",
            work_district=f"{M}区", home_city="杭州市", home_district=f"{M}街", self_intro=f"我是{M}",
            interests=[M], consent_processing=True, consent_versions={}, member_id=member.id,
            submitted_at=now_utc()))
        app_id = db.session.scalar(select(applications.c.id).where(applications.c.member_id == member.id))
        entry = record(None, "intake.apply", object_type="intake_applications", object_id=app_id, name=f"马{M}")
        entry.ip = "203.0.113.77"
    record(vol, "member.reassign", member, reason=f"交接 {M}")
    record(vol, "note.create", note, excerpt=f"第一次电话：{M} 很健谈")
    db.session.commit()
    return vol, member, other, pairings


def _database_text() -> str:
    """All text in the database: SQLite's dump, or every text-like column of every PostgreSQL table."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        return "\n".join(raw.iterdump())
    columns = connection.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character', 'bytea')")).all()
    chunks = []
    for table, column in columns:
        chunks += [str(v) for v in connection.execute(text(f'SELECT "{column}"::text FROM "{table}"')).scalars()]
    return "\n".join(chunks)


def _statistics():
    return {
        "pairings_by_stage": Counter(db.session.scalars(select(Pairing.stage))),
        "answers": Counter(db.session.scalars(select(PairingConsent.answer))),
        "stage_changes": db.session.scalar(select(func.count(StageChange.id))),
        "members_by_gender": Counter(db.session.scalars(select(Member.gender))),
        "followups": db.session.scalar(select(func.count(FollowUp.id))),
        "sessions": db.session.scalar(select(func.count(CounsellingSession.id))),
        "consents": Counter(db.session.execute(select(MemberConsent.purpose, MemberConsent.given)).all()),
    }


def _folder_text(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file()) if folder.exists() else b""


def test_after_erasure_the_marker_is_nowhere_and_statistics_are_unchanged(world, photo_dir):
    vol, member, other, pairings = world
    assert M in _database_text()
    assert any(p.is_file() for p in photo_dir.rglob("*"))
    stats = _statistics()
    pseudonym = erasure.erase_member(db.session.get(Member, member.id), vol, "会员本人要求删除")
    db.session.commit()
    db.session.expire_all()

    dump = _database_text()
    assert M not in dump and M.lower() not in dump
    assert "203.0.113.77" not in dump  # the applicant's address, logged with their self-registration
    assert not any(p.is_file() for p in photo_dir.rglob("*"))
    assert M.encode() not in _folder_text(photo_dir)
    assert _statistics() == stats

    erased = db.session.get(Member, member.id)
    assert erased.name == pseudonym and erased.erased_at is not None and erased.status is MemberStatus.CLOSED
    assert erased.birth_date.month == 1 and erased.birth_date.day == 1
    assert db.session.scalar(select(func.count(Note.id)).where(Note.member_id == member.id)) == 0
    other_note = db.session.scalars(select(Note).where(Note.member_id == other.id)).one()
    assert pseudonym in other_note.body and "感觉不错" in other_note.body
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.erase")).one()
    assert entry.object_id == member.id and entry.detail["pseudonym"] == pseudonym
    assert entry.detail["reason"] == "会员本人要求删除" and entry.actor_id == vol.id
    reassign = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.reassign")).one()
    assert reassign.detail["reason"] == pseudonym  # the whole reason was the erased assignment's text


def test_an_erased_member_leaves_the_suggestion_index(world):
    vol, member, other, pairings = world
    m = db.session.get(Member, member.id)
    m.status = MemberStatus.ACTIVE
    for p in pairings:
        db.session.delete(p)
    db.session.commit()
    matching.reset()
    matching.current_index()
    assert member.id in matching.current_index().profiles
    erasure.erase_member(db.session.get(Member, member.id), vol, "要求删除")
    db.session.commit()
    profile = matching.current_index().profiles.get(member.id)
    assert profile is None or not profile.consented


def test_an_erased_member_cannot_get_new_consents_or_photos(world):
    vol, member, other, pairings = world
    erasure.erase_member(db.session.get(Member, member.id), vol, "要求删除")
    db.session.commit()
    from crm.errors import Refusal
    with pytest.raises(Refusal):
        services.record_consent(db.session.get(Member, member.id), Purpose.SHARING, True, Channel.PHONE, vol)


# --- Through the web ------------------------------------------------------------------------------

def test_erasure_needs_a_supervisor_a_fresh_password_and_a_reason(client, csrf, login_as, confirmed):
    supervisor = login_as("supervisor")
    vol = make_user("volunteer", branch=supervisor.branch)
    member = make_member(owner=vol, name="孙删除")
    db.session.commit()
    url = f"/privacy/members/{member.id}/erase"
    response = client.get(url)
    assert response.status_code == 302 and "/confirm-password" in response.headers["Location"]
    response = client.post(url, data={"csrf_token": csrf(), "reason": "本人要求", "confirm": "y"})
    assert response.status_code == 302 and "/confirm-password" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Member, member.id).erased_at is None
    confirmed(supervisor)
    assert client.get(url).status_code == 200
    response = client.post(url, data={"csrf_token": csrf(), "reason": "", "confirm": "y"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, member.id).erased_at is None
    response = client.post(url, data={"csrf_token": csrf(), "reason": "本人要求删除", "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    erased = db.session.get(Member, member.id)
    assert erased.erased_at is not None and erased.name.startswith("ERASED-")
    assert "孙删除" not in client.get(f"/members/{member.id}").get_data(as_text=True)


def test_a_volunteer_cannot_erase(client, csrf, login_as, confirmed):
    vol = login_as("volunteer")
    member = make_member(owner=vol)
    db.session.commit()
    confirmed(vol)
    assert client.post(f"/privacy/members/{member.id}/erase",
                       data={"csrf_token": csrf(), "reason": "本人要求", "confirm": "y"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Member, member.id).erased_at is None


# --- Retention ------------------------------------------------------------------------------------

def _closed(owner, days_ago, **kw):
    m = make_member(owner=owner, status=MemberStatus.CLOSED, **kw)
    db.session.flush()
    old = now_utc() - timedelta(days=days_ago)
    db.session.execute(Member.__table__.update().where(Member.__table__.c.id == m.id)
                       .values(updated_at=old, last_contact_at=old))
    return m


def test_purge_dry_run_changes_nothing_and_the_real_run_anonymises_only_expired(app, db, monkeypatch):
    from tests import dbstate
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 365)
    vol = make_user("volunteer")
    expired = _closed(vol, 400, name="周过期")
    recent = _closed(vol, 30, name="吴最近")
    active = make_member(owner=vol, name="郑活跃")
    make_note(expired, vol, body="过期的记录", kind=NoteKind.CALL)
    db.session.commit()
    runner = app.test_cli_runner()
    before = dbstate.contents()
    result = runner.invoke(args=["purge-expired", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 closed case" in result.output and str(expired.id) in result.output
    assert dbstate.contents() == before
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Member, expired.id).erased_at is not None
    assert db.session.get(Member, expired.id).name.startswith("ERASED-")
    assert db.session.get(Member, recent.id).erased_at is None and db.session.get(Member, recent.id).name == "吴最近"
    assert db.session.get(Member, active.id).erased_at is None
    assert "过期的记录" not in _database_text()
    actions = list(db.session.scalars(select(AuditEntry.action)))
    assert actions.count("member.retention_purge") == 1 and actions.count("privacy.purge") == 1
    result = runner.invoke(args=["purge-expired"])
    assert "anonymised 0" in result.output


def test_erasure_gives_up_the_members_places_at_events_still_to_come(db):
    from crm.events import services as events
    from crm.events.models import EventRegistration, EventStatus, RegistrationStatus
    from tests.events.helpers import make_event

    volunteer, admin = make_user("volunteer"), make_user("admin")
    upcoming = make_event(volunteer.branch, capacity=1)
    cancelled = make_event(volunteer.branch, capacity=1)
    leaving, next_in_line = make_member(owner=volunteer), make_member(owner=volunteer)
    places = [events.register(upcoming, leaving, volunteer), events.register(upcoming, next_in_line, volunteer)]
    kept = events.register(cancelled, leaving, volunteer)
    cancelled.status = EventStatus.CANCELLED
    db.session.commit()

    erasure.erase_member(leaving, admin, "会员本人要求删除")
    db.session.commit()
    db.session.expire_all()
    status = lambda reg: db.session.get(EventRegistration, reg.id).status  # noqa: E731
    assert [status(r) for r in places] == [RegistrationStatus.CANCELLED, RegistrationStatus.REGISTERED]
    assert status(kept) is RegistrationStatus.REGISTERED  # a cancelled event's list stays as it was
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.cancel_registration")).one()
    assert audit.detail["reason"] == "erasure" and audit.actor_id == admin.id
