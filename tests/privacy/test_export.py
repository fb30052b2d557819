"""Export of one member's data: fresh password, reason, audit, JSON contents, readable PDF."""

import io
import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.extensions import db
from crm.members.models import Gender, NoteRevision
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, Stage
from crm.privacy import services
from crm.privacy.texts import Channel, Purpose
from tests.counselling.helpers import make_referral, make_session
from tests.factories import make_member, make_note, make_user


@pytest.fixture
def scene(login_as):
    vol = login_as("volunteer", display_name="李红娘")
    member = make_member(owner=vol, name="林导出", gender=Gender.FEMALE, self_intro="喜欢徒步和读书。")
    other = make_member(owner=make_user("volunteer"), name="秘密对方", gender=Gender.MALE, phone="13800009999")
    note = make_note(member, vol, body="第一次电话，很健谈")
    db.session.add(NoteRevision(note_id=note.id, body="第一次电话", replaced_by_id=vol.id))
    low, high = sorted((member.id, other.id))
    pairing = Pairing(member_low_id=low, member_high_id=high, stage=Stage.INTRODUCED)
    db.session.add(pairing)
    db.session.flush()
    db.session.add_all([PairingConsent(pairing_id=pairing.id, member_id=member.id, answer=ConsentAnswer.YES,
                                       share_phone=True),
                        PairingConsent(pairing_id=pairing.id, member_id=other.id, answer=ConsentAnswer.YES)])
    services.record_consent(member, Purpose.PHOTO, True, Channel.PAPER, vol)
    services.record_consent(member, Purpose.PHOTO, False, Channel.PHONE, vol, comment="电话里撤回")
    counsellor = make_user("counsellor", branch=vol.branch)
    referral = make_referral(member, vol, counsellor=counsellor)
    make_session(referral, counsellor, notes="咨询师的机密记录")
    record(vol, "member.view", member)
    db.session.commit()
    return vol, member, other, pairing


def _post(client, csrf, member, **data):
    return client.post(f"/privacy/members/{member.id}/export",
                       data={"csrf_token": csrf(), "fmt": "json", "reason": "会员要求复印件", **data})


def test_export_asks_for_the_password_first(client, csrf, scene):
    vol, member, other, pairing = scene
    response = client.get(f"/privacy/members/{member.id}/export")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/confirm-password")
    assert f"next=/privacy/members/{member.id}/export" in unquote(response.headers["Location"])
    response = _post(client, csrf, member)
    assert response.status_code == 302 and "/confirm-password" in response.headers["Location"]
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.export")).first() is None


def test_export_after_the_password_is_re_entered_through_the_page(client, csrf, scene):
    from tests.factories import PASSWORD
    vol, member, other, pairing = scene
    url = f"/privacy/members/{member.id}/export"
    confirm = client.get(url).headers["Location"]
    response = client.post(confirm, data={"csrf_token": csrf(), "password": PASSWORD,
                                          "next": url})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert client.get(url).status_code == 200


def test_export_needs_a_reason_and_is_audited(client, csrf, scene, confirmed):
    vol, member, other, pairing = scene
    confirmed(vol)
    response = _post(client, csrf, member, reason="")
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.export")).first() is None
    response = _post(client, csrf, member)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.export")).one()
    assert entry.object_id == member.id and entry.detail == {"format": "json", "reason": "会员要求复印件"}


def test_export_json_contents(client, csrf, scene, confirmed):
    vol, member, other, pairing = scene
    confirmed(vol)
    data = json.loads(_post(client, csrf, member).data)
    assert data["member_number"] == member.id
    assert data["profile"]["name"] == "林导出" and data["profile"]["self_intro"] == "喜欢徒步和读书。"
    assert data["profile"]["gender"] == "female" and data["profile"]["has_photo"] is False
    assert [n["body"] for n in data["notes"]] == ["第一次电话，很健谈"]
    assert data["notes"][0]["earlier_versions"][0]["body"] == "第一次电话"
    assert data["notes"][0]["author"] == "李红娘"
    [intro] = data["introductions"]
    assert intro["reference"] == pairing.reference and intro["stage"] == "introduced"
    assert intro["my_answer"] == "yes" and intro["shared"]["share_phone"] is True
    assert [(c["purpose"], c["given"], c["channel"]) for c in data["consents"]] == [
        ("photo", True, "paper"), ("photo", False, "phone")]
    assert data["consents"][1]["comment"] == "电话里撤回" and data["consents"][0]["text"]
    assert data["counselling"][0]["sessions"][0]["summary"] == "会员愿意继续沟通"
    assert any(e["action"] == "member.view" and e["by"] == "李红娘" for e in data["access_log"])
    raw = json.dumps(data, ensure_ascii=False)
    for secret in ("秘密对方", "13800009999", "咨询师的机密记录", "password", "id_hash"):
        assert secret not in raw  # the other member, confidential notes and secrets are not the member's copy


def test_export_pdf_is_readable_chinese(client, csrf, scene, confirmed):
    vol, member, other, pairing = scene
    confirmed(vol)
    response = _post(client, csrf, member, fmt="pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "privacy-export.pdf").write_bytes(response.data)  # for a look (pdftoppm -png)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "林导出" in text and "第一次电话，很健谈" in text and pairing.reference in text
    assert "秘密对方" not in text and "咨询师的机密记录" not in text


def test_a_member_of_another_volunteer_cannot_be_exported(client, csrf, login_as, confirmed):
    owner = make_user("volunteer")
    member = make_member(owner=owner)
    db.session.commit()
    user = login_as("volunteer")
    confirmed(user)
    assert _post(client, csrf, member).status_code == 404
    assert client.get(f"/privacy/members/{member.id}/export").status_code == 404


def test_recording_a_withdrawal_on_the_consent_page(client, csrf, scene):
    vol, member, other, pairing = scene
    page = client.get(f"/privacy/members/{member.id}/consents")
    assert page.status_code == 200 and "Consent history" in page.get_data(as_text=True)
    response = client.post(f"/privacy/members/{member.id}/consents", data={
        "csrf_token": csrf(), "purpose": "sharing", "given": "withdrawn", "channel": "phone", "comment": ""})
    assert response.status_code == 302
    db.session.expire_all()
    state = services.current_consents(db.session.get(type(member), member.id))
    assert state[Purpose.SHARING].given is False and state[Purpose.SHARING].channel is Channel.PHONE
    bad = client.post(f"/privacy/members/{member.id}/consents", data={
        "csrf_token": csrf(), "purpose": "nonsense", "given": "given", "channel": "legacy", "comment": "x" * 400})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert html.count('class="error"') >= 2
