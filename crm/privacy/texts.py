"""The consent texts members are asked to accept, with their versions: the one place they live.

Changing a text means adding a new version here (never editing one in place): members whose latest
consent for that purpose was given to an older version are asked again (the case file shows
"consent needs renewing") until a new consent is recorded.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from crm.enums import LabelledEnum


class Purpose(LabelledEnum):
    PROCESSING = "processing"   # keeping and using the member's data for matchmaking at all
    SHARING = "sharing"         # showing the profile to suggested / introduced members
    PHOTO = "photo"             # showing the member's photo to the other side

    @classmethod
    def _labels(cls):
        return {"processing": _l("Data processing"), "sharing": _l("Sharing with matched members"),
                "photo": _l("Photo sharing")}


class Channel(LabelledEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    PAPER = "paper"
    SELF_REGISTRATION = "self_registration"
    IMPORT = "import"
    LEGACY = "legacy"           # recorded by the migration for members who consented before the ledger

    @classmethod
    def _labels(cls):
        return {"in_person": _l("In person"), "phone": _l("Phone"), "paper": _l("Paper form"),
                "self_registration": _l("Self-registration"), "import": _l("Roster import"),
                "legacy": _l("Before the consent ledger")}


@dataclass(frozen=True)
class ConsentText:
    purpose: Purpose
    version: str
    text: str   # the exact wording the member accepts (shown translated; the msgid is the record)


#: Every version ever used, oldest first per purpose. The last one per purpose is current.
TEXTS: tuple[ConsentText, ...] = (
    ConsentText(Purpose.PROCESSING, "2026-11",
                _l("I agree that the trade union's matchmaking service keeps and uses my personal "
                   "information (identity, contact, work and profile) to find and arrange introductions "
                   "for me, until I withdraw this consent or my case is closed.")),
    ConsentText(Purpose.SHARING, "2026-11",
                _l("I agree that my profile (without my contact details) is shown to members suggested to me "
                   "and to members I am introduced to.")),
    ConsentText(Purpose.PHOTO, "2026-11",
                _l("I agree that my photo is shown to members I am introduced to.")),
)


def current_text(purpose: Purpose) -> ConsentText:
    return [t for t in TEXTS if t.purpose is purpose][-1]


def current_versions() -> dict[str, str]:
    return {p.value: current_text(p).version for p in Purpose}


def text_for(purpose: Purpose, version: str) -> ConsentText | None:
    return next((t for t in TEXTS if t.purpose is purpose and t.version == version), None)
