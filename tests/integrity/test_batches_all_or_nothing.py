"""Batch actions write all of their rows or none (issue 9): card batch printing records one audit entry per
introduction printed, all in the request's single commit, and only hands out the PDF after that commit; a
failure at any introduction leaves no entry at all. (The roster import's own all-or-nothing tests:
tests/intake/test_import.py, test_a_failure_in_the_middle_leaves_nothing and
test_a_failed_confirm_imports_nothing_and_says_so.)"""

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.cards import services as card_services
from crm.cards import views as card_views
from tests import dbstate
from tests.cards.helpers import introduced, more_introductions


def _three_introductions():
    first, vol_a, vol_b, *_ = introduced()
    return [first, *more_introductions(vol_a, vol_b, 2)], vol_a


def _printed(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "pairing.print_cards"))


def test_card_batch_audit_entries_are_written_together_or_not_at_all(client, db, login_as, csrf, monkeypatch):
    pairings, volunteer = _three_introductions()
    login_as(volunteer)
    ids = [str(p.id) for p in pairings]
    db.session.remove()
    before = dbstate.contents()
    real_entry, real_write, calls = card_services.new_entry, card_services.record_all, []

    def failing_entry(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second introduction's entry fails: the first is already made
            raise RuntimeError("disk full")
        return real_entry(*args, **kwargs)

    monkeypatch.setattr(card_services, "new_entry", failing_entry)
    with pytest.raises(RuntimeError, match="disk full"):
        client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": ids})
    db.session.remove()
    assert len(calls) == 2
    assert dbstate.contents() == before  # not even the first introduction's entry
    monkeypatch.setattr(card_services, "new_entry", real_entry)

    def failing_write(entries):  # the entries are written in one INSERT: fail after the first is written
        real_write(entries[:1])
        raise RuntimeError("disk full")

    monkeypatch.setattr(card_services, "record_all", failing_write)
    with pytest.raises(RuntimeError, match="disk full"):
        client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": ids})
    db.session.remove()
    assert dbstate.contents() == before
    monkeypatch.setattr(card_services, "record_all", real_write)
    response = client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": ids})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    db.session.remove()
    assert _printed(db) == 3


def test_a_card_batch_whose_pdf_fails_records_no_printing(client, db, login_as, csrf, monkeypatch):
    pairings, volunteer = _three_introductions()
    login_as(volunteer)
    ids = [str(p.id) for p in pairings]
    db.session.remove()
    before = dbstate.contents()

    def broken_pdf(cards):
        raise OSError("font missing")

    monkeypatch.setattr(card_views, "render_cards", broken_pdf)
    with pytest.raises(OSError):
        client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": ids})
    db.session.remove()
    assert dbstate.contents() == before and _printed(db) == 0
