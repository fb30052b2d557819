"""Demo consent ledger for `flask seed-demo`: the consents each member gave on the paper form when
their consent was recorded, a few photo consents, a withdrawal and one consent to an older text."""

from datetime import timedelta

from crm.extensions import db
from crm.privacy.models import MemberConsent
from crm.privacy.texts import Channel, Purpose, current_text


def seed_privacy(rng, members):
    for member in members:
        if member.consent_at is None:
            continue
        purposes = [Purpose.PROCESSING, Purpose.SHARING] + ([Purpose.PHOTO] if rng.random() < 0.4 else [])
        for purpose in purposes:
            db.session.add(MemberConsent(member_id=member.id, purpose=purpose, given=True, at=member.consent_at,
                                         text_version=current_text(purpose).version, channel=Channel.PAPER,
                                         recorded_by_id=member.consent_recorded_by_id))
        member.photo_consent = Purpose.PHOTO in purposes
        member.consent_versions = {p.value: current_text(p).version for p in purposes}
        if rng.random() < 0.03:  # withdrew sharing by phone a few weeks later: out of suggestions
            db.session.add(MemberConsent(member_id=member.id, purpose=Purpose.SHARING, given=False,
                                         at=member.consent_at + timedelta(days=rng.randint(10, 60)),
                                         text_version=current_text(Purpose.SHARING).version, channel=Channel.PHONE,
                                         recorded_by_id=member.owner_id or member.consent_recorded_by_id,
                                         comment="电话中表示暂时不想被推荐"))
            member.sharing_consent = False
            member.consent_versions = {k: v for k, v in member.consent_versions.items() if k != "sharing"}
    db.session.flush()
