"""Field validators shared by every form."""

import re
import unicodedata
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from crm.clock import today

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


def normalise_width(value):
    """Full-width digits and letters, as a Chinese input method types them, become ASCII: １３９ → 139."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def no_control_chars(form, field):
    """Refuse NUL and other control characters (newlines and tabs are fine in long text)."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(_l("Remove the invisible control characters from this text."))


def within_a_year(form, field):
    """A date to plan for (a follow-up, a next session): at most a year ahead, so that a mistyped year
    (9999) is caught at the field instead of in every calendar that reads the date."""
    if field.data is not None and field.data > today() + timedelta(days=366):
        raise ValidationError(_l("Choose a date within the next twelve months."))


def is_person_name(value: str) -> bool:
    """Chinese or Latin letters, with the middle dot and spaces used in transliterated names, and at
    least one letter ("·" or "-" alone is not a name). THE name rule: forms and the roster import."""
    marks = "·• -'"
    return (all(ch in marks or unicodedata.category(ch).startswith("L") for ch in value)
            and any(ch not in marks for ch in value))


def person_name(form, field):
    if field.data and not is_person_name(field.data):
        raise ValidationError(_l("A name may contain only letters, spaces and the middle dot (·)."))


def mainland_mobile(form, field):
    if field.data and not re.fullmatch(r"1[3-9][0-9]{9}", field.data):  # \d would accept any script's digits
        raise ValidationError(_l("Enter an 11-digit mainland mobile number, such as 13812345678."))


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def resident_id_is_valid(value: str) -> bool:
    """GB 11643: 17 digits and a check character (0–9 or X)."""
    value = value.upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def resident_id(form, field):
    if field.data and not resident_id_is_valid(field.data):
        raise ValidationError(_l("This is not a valid 18-character resident ID number."))
