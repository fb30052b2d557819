"""What goes on an introduction card, who may print one, and the audited print.

A ``CardSide`` is flat text: the card template receives only what may be printed, so it cannot
reach a name, phone number or employer the other member did not agree to share.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from crm.audit.services import new_entry, record, record_all
from crm.auth import policy
from crm.cards.suggestions import first_meeting
from crm.clock import today
from crm.extensions import db
from crm.members import vocab
from crm.members.models import Member
from crm.members.projections import SharedProfile
from crm.pairings.models import Pairing, Stage
from crm.privacy.photos import photo_file
from crm.web import punctuation


@dataclass(frozen=True)
class CardSide:
    """One printed card: handed to ``recipient_name``, presenting the other member."""

    reference: str
    introduced_on: str
    branch_name: str
    branch_phone: str | None
    recipient_name: str
    name: str                      # the other member: courtesy name unless the full name was consented
    gender: str
    age: int
    occupation: str
    education: str
    work_area: str
    home_area: str
    height_cm: int | None
    interests: tuple[str, ...]     # labels, shared interests first
    shared_interests: tuple[str, ...]
    self_intro: str
    phone: str | None = None
    wechat_id: str | None = None
    employer: str | None = None
    suggestion: str = ""
    volunteer_name: str = ""
    volunteer_phone: str | None = None
    photo: str | None = None       # file: URI of the other member's photo, when the printing user may show it


def _area(city: str, district: str) -> str:
    return f"{city}{district}" if district else city


def printable_text(text: str | None) -> str:
    """Member-written text without pictographs outside the BMP (emoji): the card fonts have no
    glyph for them and would print empty boxes."""
    return "".join(ch for ch in (text or "") if ord(ch) < 0x10000 or unicodedata.category(ch)[0] in "LNP").strip()


def _interest_label(key: str) -> str:
    return str(vocab.INTERESTS.get(key, key))


def _introduced_on(pairing: Pairing) -> date:
    at = next((h.at for h in reversed(pairing.history) if h.to_stage is Stage.INTRODUCED), None)
    return (at or pairing.stage_changed_at).date()


def _photo_uri(user, member: Member, pairing: Pairing) -> str | None:
    """The member's photo for the other side's card: the checks of the photo view (crm.privacy.views
    pairing_photo): photo consent, shared in this introduction, both said yes, and a printing user who
    may open the recipient's case file."""
    if user is None or not policy.can_see_photo(user, member, pairing):
        return None
    path = photo_file(member.photo_path)
    return path.resolve().as_uri() if path else None


def card_side(pairing: Pairing, recipient: Member, user=None) -> CardSide:
    """The card handed to ``recipient``: the other member as they agreed to be shown (with their photo
    only when ``user``, who prints it, may show it)."""
    other = pairing.other(recipient)
    shown = SharedProfile.from_member(other, pairing.consent_for(other))
    addressee = SharedProfile.from_member(recipient, pairing.consent_for(recipient)).display_name
    view = shown.candidate
    shared = [k for k in view.interests if k in set(recipient.interests or ())]
    _, suggestion = first_meeting(recipient.interests, view.interests)
    owner, branch = recipient.owner, recipient.branch
    return CardSide(
        reference=pairing.reference, introduced_on=format_date(_introduced_on(pairing), "long"),
        branch_name=branch.name, branch_phone=branch.phone, recipient_name=addressee,
        name=shown.display_name, gender=str(view.gender.label), age=view.age,
        occupation=str(vocab.OCCUPATION_CATEGORIES.get(view.occupation_category, view.occupation_category)),
        education=view.education_label, work_area=_area(view.work_city, view.work_district),
        home_area=_area(view.home_city, view.home_district), height_cm=view.height_cm,
        interests=tuple(_interest_label(k) for k in shared + [k for k in view.interests if k not in shared]),
        shared_interests=tuple(_interest_label(k) for k in shared),
        self_intro=printable_text(view.self_intro),
        phone=shown.phone, wechat_id=shown.wechat_id, employer=shown.employer,
        suggestion=suggestion,
        volunteer_name=owner.display_name if owner else "", volunteer_phone=owner.phone if owner else None,
        photo=_photo_uri(user, other, pairing))


def cards_for(pairing: Pairing, user=None) -> list[CardSide]:
    """Both cards of a pairing: the one for member A, then the one for member B (printed by ``user``)."""
    return [card_side(pairing, m, user) for m in pairing.members]


def print_refusal(user, pairing: Pairing):
    """Why ``user`` may not print this pairing's cards now, or None."""
    if not policy.can_move_pairing(user, pairing):
        return _l("You may not print the cards of this introduction.")
    if not pairing.both_consented:
        return _l("Introduction cards can be printed only after both members have said yes.")
    if not pairing.stage.is_introduced_or_later:
        return _l("This introduction is closed; its cards can no longer be printed.")
    if not all(m.shares_profile for m in pairing.members):
        return _l("A member of this introduction has withdrawn consent to sharing their profile; its cards can no "
                  "longer be printed.")
    if not policy.can_print_cards(user, pairing):  # the rule itself; the checks above name the reason
        return _l("You may not print the cards of this introduction.")
    return None


def load_pairings(ids) -> list[Pairing]:
    """Pairings with everything a card needs, in the order of ``ids`` (unknown ids are left out)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    member_opts = lambda rel: joinedload(rel).options(joinedload(Member.owner), joinedload(Member.branch))  # noqa: E731
    found = db.session.scalars(
        select(Pairing).options(member_opts(Pairing.member_a), member_opts(Pairing.member_b),
                                selectinload(Pairing.consents), selectinload(Pairing.history))
        .where(Pairing.id.in_(ids))).unique().all()
    by_id = {p.id: p for p in found}
    return [by_id[i] for i in ids if i in by_id]


def record_print(user, pairing: Pairing, batch: bool = False) -> None:
    record(user, "pairing.print_cards", pairing, reference=pairing.reference, batch=batch,
           printed_on=today().isoformat())


def record_prints(user, pairings: list[Pairing]) -> None:
    """The audit entries of a batch print, one per pairing, written in one statement (not one each)."""
    printed_on = today().isoformat()
    record_all([new_entry(user, "pairing.print_cards", p, reference=p.reference, batch=True, printed_on=printed_on)
                for p in pairings])


def split_printable(user, ids) -> tuple[list[Pairing], list[str]]:
    """The pairings among ``ids`` whose cards ``user`` may print, and a line for each one skipped.

    An id the user may not see is reported like an unknown one, so a batch cannot probe for pairings.
    """
    pairings = {p.id: p for p in load_pairings(ids)}
    printable, skipped = [], []
    for pairing_id in dict.fromkeys(ids):
        pairing = pairings.get(pairing_id)
        if pairing is None or not policy.can_view_pairing(user, pairing):
            skipped.append(str(_l("#%(id)s: no such introduction among yours", id=pairing_id)))
        elif (refusal := print_refusal(user, pairing)) is not None:
            skipped.append(f"{pairing.reference}{punctuation()['colon']}{refusal}")
        else:
            printable.append(pairing)
    return printable, skipped


#: Stages whose cards may be printed (both consented, still going or married).
PRINTABLE_STAGES = [s for s in Stage if s.is_introduced_or_later]


def printable_pairings(user, limit: int = 300) -> list[Pairing]:
    """Pairings the user may print cards for, most recently moved first (two statements); not those of a member
    who withdrew consent to sharing (print_refusal), whose names the selection would show."""
    low, high = aliased(Member), aliased(Member)
    stmt = (select(Pairing).join(low, Pairing.member_a).join(high, Pairing.member_b)
            .options(contains_eager(Pairing.member_a.of_type(low)), contains_eager(Pairing.member_b.of_type(high)),
                     selectinload(Pairing.consents))
            .where(policy.visible_pairings_clause(user, low, high), Pairing.stage.in_(PRINTABLE_STAGES))
            .order_by(Pairing.stage_changed_at.desc()).limit(limit))
    return [p for p in db.session.scalars(stmt).unique()
            if p.both_consented and all(m.shares_profile for m in p.members)]


def side_names(user, pairing: Pairing) -> list[str]:
    """Both members as ``user`` may name them: own case files by name, the other side as shared."""
    return [m.name if policy.sees_identity(user, m)
            else SharedProfile.from_member(m, pairing.consent_for(m)).display_name for m in pairing.members]
