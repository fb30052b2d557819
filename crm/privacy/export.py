"""A copy of one member's data for the member (the right of access), as JSON and as a PDF.

Contents: the profile (every stored field of the member), case notes with their earlier versions,
introductions (reference, stage, dates, the member's own answer and what they agreed to share; the
other member only by the introduction's reference, never their data), the consent ledger,
follow-ups, counselling referrals and sessions (dates, mode and topic, the shareable summary; a
counsellor's confidential notes stay with the counselling service) and the access log (who opened
or changed the case file, and when). Each export is written to the audit log with its reason.
"""

import json
from datetime import date, datetime

from flask import render_template
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from crm.audit.labels import ACTIONS
from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.auth.models import User
from crm.clock import now_utc
from crm.counselling.models import CounsellingSession, Referral
from crm.enums import LabelledEnum
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.members.models import Member, Note
from crm.pairings.models import ConsentAnswer, Pairing, Stage
from crm.privacy.models import MemberConsent
from crm.privacy.texts import Channel, Purpose, text_for

FORMAT_VERSION = 1


def _plain(value):
    if isinstance(value, LabelledEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _profile(member: Member) -> dict:
    # Internal keys derived from the data (search keys, the keyed ID hash) are not the member's data.
    skip = {"id", "version", "consent_versions", "photo_path", "erased_at", "id_hash", "name_pinyin",
            "name_initials", "phone_last4"}
    out = {c.key: _plain(getattr(member, c.key)) for c in Member.__table__.columns if c.key not in skip}
    out["has_photo"] = member.photo_path is not None
    return out


def collect(member: Member) -> dict:
    """Everything the service keeps about ``member``, as plain JSON-ready data."""
    mid = member.id
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    notes = db.session.scalars(select(Note).where(Note.member_id == mid).options(selectinload(Note.revisions))
                               .order_by(Note.id)).all()
    involved = or_(Pairing.member_low_id == mid, Pairing.member_high_id == mid)
    pairings = db.session.scalars(select(Pairing).where(involved)
                                  .options(selectinload(Pairing.consents), selectinload(Pairing.history))
                                  .order_by(Pairing.id)).all()
    consents = db.session.scalars(select(MemberConsent).where(MemberConsent.member_id == mid)
                                  .order_by(MemberConsent.id)).all()
    followups = db.session.scalars(select(FollowUp).where(FollowUp.member_id == mid).order_by(FollowUp.id)).all()
    referrals = db.session.scalars(select(Referral).where(Referral.member_id == mid).order_by(Referral.id)).all()
    sessions = db.session.execute(
        select(CounsellingSession.referral_id, CounsellingSession.held_on, CounsellingSession.mode,
               CounsellingSession.topic, CounsellingSession.duration_minutes, CounsellingSession.shareable_summary)
        .where(CounsellingSession.referral_id.in_([r.id for r in referrals] or [-1]))
        .order_by(CounsellingSession.held_on)).all()
    access = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "members",
                                                         AuditEntry.object_id == mid)
                                .order_by(AuditEntry.id)).all()

    def pairing_data(p: Pairing) -> dict:
        own = p.consent_for(mid)
        return {
            "reference": p.reference, "stage": p.stage.value, "source": p.source.value,
            "created_at": _plain(p.created_at), "stage_changed_at": _plain(p.stage_changed_at),
            "close_reason": _plain(p.close_reason),
            "my_answer": _plain(own.answer) if own else None,
            "answered_at": _plain(own.recorded_at) if own else None,
            "shared": {f: getattr(own, f) for f in ("share_full_name", "share_phone", "share_wechat",
                                                    "share_photo", "share_employer")} if own else {},
            "history": [{"from": _plain(h.from_stage), "to": _plain(h.to_stage), "at": _plain(h.at)}
                        for h in p.history],
        }

    return {
        "format": FORMAT_VERSION,
        "exported_at": _plain(now_utc()),
        "member_number": mid,
        "profile": _profile(member),
        "notes": [{"kind": n.kind.value, "contact_on": _plain(n.contact_on), "created_at": _plain(n.created_at),
                   "author": names.get(n.author_id), "body": n.body,
                   "deleted_at": _plain(n.deleted_at),  # deleted notes are still held until erasure: disclosed
                   "earlier_versions": [{"body": r.body, "replaced_at": _plain(r.replaced_at)} for r in n.revisions]}
                  for n in notes],
        "introductions": [pairing_data(p) for p in pairings],
        "consents": [{"purpose": c.purpose.value, "given": c.given, "text_version": c.text_version,
                      "text": str(getattr(text_for(Purpose(c.purpose), c.text_version), "text", "")),
                      "at": _plain(c.at), "channel": c.channel.value,
                      "recorded_by": names.get(c.recorded_by_id), "comment": c.comment} for c in consents],
        "follow_ups": [{"due_on": _plain(f.due_on), "kind": f.kind.value, "title": f.title,
                        "done_at": _plain(f.done_at), "outcome": f.outcome} for f in followups],
        "counselling": [{"referred_at": _plain(r.created_at), "status": r.status.value, "reason": r.reason,
                         "closed_at": _plain(r.closed_at), "outcome": r.outcome,
                         "sessions": [{"held_on": _plain(s.held_on), "mode": s.mode.value, "topic": s.topic.value,
                                       "minutes": s.duration_minutes, "summary": s.shareable_summary}
                                      for s in sessions if s.referral_id == r.id]} for r in referrals],
        "access_log": [{"at": _plain(e.at), "by": names.get(e.actor_id), "action": e.action} for e in access],
    }


def as_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


#: The profile as the PDF shows it: (label, member attribute), in the case file's order.
PROFILE_ROWS = (
    (_l("Name"), "name"), (_l("Gender"), "gender"), (_l("Date of birth"), "birth_date"),
    (_l("Mobile phone"), "phone"), (_l("WeChat ID"), "wechat_id"), (_l("Employer"), "employer"),
    (_l("Trade union"), "union_name"), (_l("Occupation"), "occupation"), (_l("Education"), "education"),
    (_l("Height (cm)"), "height_cm"), (_l("Hometown"), "hometown"), (_l("Work district"), "work_district"),
    (_l("Home district"), "home_district"), (_l("Wants to settle in"), "settle_city"),
    (_l("Marital history"), "marital_history"), (_l("Children"), "children_count"),
    (_l("Self-introduction"), "self_intro"), (_l("Interests"), "interests"), (_l("Case status"), "status"),
    (_l("Photo"), "photo_path"),
)


def _readable(member, attr):
    value = getattr(member, attr)
    if attr == "work_district":
        return f"{member.work_city}{member.work_district}"
    if attr == "home_district":
        return f"{member.home_city}{member.home_district}"
    if attr == "interests":
        from crm.members.vocab import INTERESTS
        return ", ".join(str(INTERESTS.get(k, k)) for k in value or ())
    if attr == "photo_path":
        return _("Yes") if value else _("No")
    if isinstance(value, LabelledEnum):
        return str(value.label)
    return "—" if value in (None, "") else str(value)


def as_pdf(member: Member, data: dict) -> bytes:
    from crm.cards.pdf import html_to_pdf  # WeasyPrint loads with the cards blueprint already

    html = render_template(
        "privacy/export_pdf.html", member=member, data=data, actions=ACTIONS,
        profile=[(label, _readable(member, attr)) for label, attr in PROFILE_ROWS],
        purposes={p.value: p.label for p in Purpose}, channels={c.value: c.label for c in Channel},
        stages={s.value: s.label for s in Stage}, answers={a.value: a.label for a in ConsentAnswer},
        exported=format_datetime(now_utc(), "medium"))
    return html_to_pdf(html)


def export_member(member: Member, by, reason: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of the export; audit-logged with the reason."""
    data = collect(member)
    record(by, "member.export", member, format=fmt, reason=reason)
    db.session.flush()
    stamp = now_utc().strftime("%Y%m%d")
    if fmt == "pdf":
        return as_pdf(member, data), "application/pdf", f"member-{member.id}-{stamp}.pdf"
    return as_json(data), "application/json", f"member-{member.id}-{stamp}.json"
