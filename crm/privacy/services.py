"""Consents: the service API other areas call (intake records self-registration consents here).

``record_consent`` appends to the ledger and updates the member's copy of the current state in
the same flush, so whatever a consent covered stops at once: the suggestion index refreshes
members whose ``updated_at`` moved (crm.matching.service) and re-checks candidates against fresh
rows, and photos are only served while ``Member.photo_consent`` holds.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from crm.audit.services import record
from crm.clock import now_utc
from crm.errors import Refusal
from crm.extensions import db
from crm.privacy.models import MemberConsent
from crm.privacy.texts import Channel, Purpose, current_text, current_versions, text_for

_FLAG = {Purpose.PROCESSING: "processing_consent", Purpose.SHARING: "sharing_consent",
         Purpose.PHOTO: "photo_consent"}


@dataclass(frozen=True)
class ConsentState:
    purpose: Purpose
    given: bool
    text_version: str | None
    at: datetime | None
    channel: Channel | None
    needs_renewal: bool          # given, but to a text version that is no longer current


def record_consent(member, purpose, given: bool, channel, by, text_version: str | None = None,
                   comment: str | None = None) -> MemberConsent:
    """Append a consent given or withdrawn, and apply it to the member at once.

    ``purpose``/``channel`` take the enums or their values; ``by`` is the user recording it (None
    for the member's own self-registration); ``text_version`` defaults to the current text.
    """
    purpose, channel = Purpose(purpose), Channel(channel)
    version = text_version or current_text(purpose).version
    if text_for(purpose, version) is None:
        raise Refusal(f"unknown consent text version {version!r} for {purpose.value}")
    if getattr(member, "erased_at", None) is not None:
        raise Refusal("the member's data has been erased")
    row = MemberConsent(member_id=member.id, purpose=purpose, given=bool(given), text_version=version,
                        channel=channel, recorded_by_id=getattr(by, "id", None), at=now_utc(),
                        comment=(comment or None))
    db.session.add(row)
    setattr(member, _FLAG[purpose], bool(given))
    versions = dict(member.consent_versions or {})
    if given:
        versions[purpose.value] = version
    else:
        versions.pop(purpose.value, None)
    member.consent_versions = versions
    member.updated_at = now_utc()  # moves the suggestion index's stamp even if nothing else changed
    db.session.flush()
    record(by, "consent.give" if given else "consent.withdraw", member, purpose=purpose.value,
           text_version=version, channel=channel.value)
    return row


def current_consents(member) -> dict[Purpose, ConsentState]:
    """The latest ledger row per purpose (one statement); purposes never recorded fall back to the
    member's copy (the legacy default) with no version, time or channel."""
    latest = (select(func.max(MemberConsent.id)).where(MemberConsent.member_id == member.id)
              .group_by(MemberConsent.purpose))
    rows = {r.purpose: r for r in db.session.scalars(select(MemberConsent).where(MemberConsent.id.in_(latest)))}
    current = current_versions()
    out = {}
    for p in Purpose:
        r = rows.get(p)
        if r is None:
            out[p] = ConsentState(p, bool(getattr(member, _FLAG[p])), None, None, None, False)
        else:
            out[p] = ConsentState(p, r.given, r.text_version, r.at, r.channel,
                                  r.given and r.text_version != current[p.value])
    return out


def consent_history(member) -> list[MemberConsent]:
    return list(db.session.scalars(select(MemberConsent).where(MemberConsent.member_id == member.id)
                                   .order_by(MemberConsent.id.desc())))


def needs_renewal(member) -> list[Purpose]:
    """Purposes given to an outdated text, from the member's copy (no query: for the case file)."""
    current = current_versions()
    return [Purpose(p) for p, v in (member.consent_versions or {}).items()
            if p in current and v != current[p] and getattr(member, _FLAG[Purpose(p)])]
