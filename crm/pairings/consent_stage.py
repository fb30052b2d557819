"""Keeps ``pairing_consents.pairing_stage``: a copy of the pairing's stage on each side's consent row.

Why: the dashboard counts each volunteer's overdue consent requests, the unanswered consents of their
members asked before the cut-off on pairings still awaiting consent. Most unanswered consents belong
to pairings that closed meanwhile (at 100,000 members a branch has ~4,500 asked before the cut-off,
~580 of them still awaited), and reading each one's pairing to rule it out was most of that
statement. With the stage on the consent, the count is one range of one covering index per member.

Kept by :func:`refresh` for the pairings a flush touched (the ``after_flush`` session event below: a
pairing written, a consent added), once everything in the flush is written, so no writer of a stage
or of a consent can forget it. Bulk writers (crm.benchdata; the migration's backfill) call
:func:`rebuild`. tests/pairings/test_consent_stage.py compares it with the pairings after random writes.
"""

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.pairings.models import Pairing, PairingConsent

_CHUNK = 500


def _copied():
    consents, pairings = PairingConsent.__table__, Pairing.__table__
    stage = select(pairings.c.stage).where(pairings.c.id == consents.c.pairing_id).scalar_subquery()
    return update(consents).values(pairing_stage=stage)


def refresh(connection, pairing_ids) -> None:
    """Copy the stage of ``pairing_ids`` onto their consents: one UPDATE per 500 pairings."""
    ids, consents = sorted(pairing_ids), PairingConsent.__table__
    for i in range(0, len(ids), _CHUNK):
        connection.execute(_copied().where(consents.c.pairing_id.in_(ids[i:i + _CHUNK])))


def rebuild(connection=None) -> None:
    """Copy every pairing's stage onto its consents (bulk writers)."""
    (connection if connection is not None else db.session.connection()).execute(_copied())


def _touched(session) -> set:
    pairings = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Pairing):
            pairings.add(obj.id)
        elif isinstance(obj, PairingConsent):
            pairings.add(obj.pairing_id)
    pairings.discard(None)
    return pairings


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    if not session.new and not session.dirty:
        return
    pairings = _touched(session)
    if not pairings:
        return
    refresh(session.connection(), pairings)
    for obj in list(session.identity_map.values()):  # the copy was written in SQL: reload it when read
        if isinstance(obj, PairingConsent) and obj.pairing_id in pairings:
            session.expire(obj, ["pairing_stage"])
