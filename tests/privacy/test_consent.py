"""The consent ledger: history kept, current state per purpose, renewal, and withdrawal that
stops the processing it covered at once (suggestions, photos)."""

import pytest

from crm.extensions import db
from crm.matching import service as matching
from crm.members.models import Gender
from crm.privacy import services
from crm.privacy.models import MemberConsent
from crm.privacy.texts import Channel, ConsentText, Purpose
from tests.factories import make_member, make_user


def test_ledger_keeps_history_and_current_state_is_the_latest_row(db):
    vol = make_user("volunteer")
    m = make_member(owner=vol)
    services.record_consent(m, Purpose.PHOTO, True, Channel.IN_PERSON, vol)
    services.record_consent(m, "photo", False, "phone", vol)
    services.record_consent(m, Purpose.SHARING, True, Channel.PAPER, vol)
    rows = db.session.query(MemberConsent).filter_by(member_id=m.id).all()
    assert len(rows) == 3
    state = services.current_consents(m)
    assert state[Purpose.PHOTO].given is False and state[Purpose.PHOTO].channel is Channel.PHONE
    assert state[Purpose.SHARING].given is True and state[Purpose.SHARING].text_version == "2026-11"
    assert state[Purpose.PROCESSING].given is True and state[Purpose.PROCESSING].channel is None  # legacy default
    assert m.photo_consent is False and m.sharing_consent is True


def test_ledger_rows_cannot_be_rewritten(db):
    vol = make_user("volunteer")
    row = services.record_consent(make_member(owner=vol), Purpose.SHARING, True, Channel.PHONE, vol)
    row.given = False
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_a_changed_text_version_asks_for_consent_again(db, monkeypatch):
    from crm.privacy import texts
    vol = make_user("volunteer")
    m = make_member(owner=vol)
    services.record_consent(m, Purpose.SHARING, True, Channel.PHONE, vol)
    assert services.needs_renewal(m) == []
    monkeypatch.setattr(texts, "TEXTS", texts.TEXTS + (ConsentText(Purpose.SHARING, "2027-01", "new wording"),))
    assert services.needs_renewal(m) == [Purpose.SHARING]
    assert services.current_consents(m)[Purpose.SHARING].needs_renewal
    services.record_consent(m, Purpose.SHARING, True, Channel.PHONE, vol)
    assert services.needs_renewal(m) == []
    assert services.current_consents(m)[Purpose.SHARING].text_version == "2027-01"


def test_withdrawing_sharing_takes_the_member_out_of_suggestions_at_once(db):
    vol = make_user("volunteer")
    a = make_member(owner=vol, gender=Gender.MALE, name="李明")
    b = make_member(owner=vol, gender=Gender.FEMALE)
    db.session.commit()
    assert [s.number for s in matching.suggestions(a)] == [b.id]  # index built with b in it
    services.record_consent(b, Purpose.SHARING, False, Channel.PHONE, vol)
    db.session.commit()
    assert matching.suggestions(a) == []
    assert matching.current_index().profiles[b.id].consented is False  # the index refreshed, not only the re-check
    assert matching.why_not(a, b) is not None
    services.record_consent(b, Purpose.SHARING, True, Channel.PHONE, vol)
    db.session.commit()
    assert [s.number for s in matching.suggestions(a)] == [b.id]


def test_withdrawing_processing_also_stops_suggestions(db):
    vol = make_user("volunteer")
    a = make_member(owner=vol, gender=Gender.MALE)
    b = make_member(owner=vol, gender=Gender.FEMALE)
    db.session.commit()
    matching.suggestions(a)
    services.record_consent(b, Purpose.PROCESSING, False, Channel.PHONE, vol)
    db.session.commit()
    assert matching.suggestions(a) == []


def test_the_case_file_shows_consent_needs_renewing_after_a_text_change(client, login_as, monkeypatch):
    from crm.privacy import texts
    vol = login_as("volunteer")
    m = make_member(owner=vol)
    services.record_consent(m, Purpose.SHARING, True, Channel.PHONE, vol)
    db.session.commit()
    assert "consent needs renewing" not in client.get(f"/members/{m.id}").get_data(as_text=True)
    monkeypatch.setattr(texts, "TEXTS", texts.TEXTS + (ConsentText(Purpose.SHARING, "2027-01", "new wording"),))
    page = client.get(f"/members/{m.id}").get_data(as_text=True)
    assert "consent needs renewing" in page
    assert "consent needs renewing" in client.get(f"/privacy/members/{m.id}/consents").get_data(as_text=True)
