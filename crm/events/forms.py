"""Forms for events: the event itself, signing a member up, the door search and choice entry."""

import re

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from crm.clock import today
from crm.events.models import EventStatus
from crm.members import vocab
from crm.members.forms import STRIP, TEXT, WIDTH
from crm.validators import mainland_mobile

FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
YEARS_BACK, YEARS_AHEAD = 2, 5  # an event's dates lie within these many years of today


def within_years(form, field):
    """A date of this or the next few years (an event recorded late may be up to YEARS_BACK old). Beyond
    that it is a typing slip; and a year like 0001 cannot even be converted to UTC."""
    if field.data is None:
        return
    first, last = today().year - YEARS_BACK, today().year + YEARS_AHEAD
    if not first <= field.data.year <= last:
        raise ValidationError(_l("Enter a date in the years %(first)s to %(last)s.", first=first, last=last))


def _occupations():
    return [SelectChoice("", _l("Any occupation")),
            *[SelectChoice(k, v) for k, v in vocab.OCCUPATION_CATEGORIES.items()]]


class EventForm(FlaskForm):
    version = HiddenField()  # optimistic locking: the version the form was opened on (edit only)
    title = StringField(_l("Title"), filters=STRIP, validators=[DataRequired(), Length(max=120), *TEXT])
    description = TextAreaField(_l("Description"), filters=STRIP, validators=[Optional(), Length(max=4000), *TEXT])
    starts_at = DateTimeLocalField(_l("Starts"), format=FORMAT, validators=[InputRequired(), within_years])
    ends_at = DateTimeLocalField(_l("Ends"), format=FORMAT, validators=[InputRequired(), within_years])
    place = StringField(_l("Place"), filters=STRIP, validators=[DataRequired(), Length(max=200), *TEXT])
    capacity = IntegerField(_l("Capacity"), validators=[InputRequired(), NumberRange(min=1, max=5000)])
    max_gender_percent = IntegerField(
        _l("Most places for one gender (%)"), validators=[Optional(), NumberRange(min=50, max=100)],
        description=_l("For example 60: neither men nor women take more than 60 in every 100 places. "
                       "Leave empty for no quota."))
    signup_deadline = DateTimeLocalField(_l("Sign-up deadline"), format=FORMAT, validators=[Optional(), within_years])
    occupation_category = SelectField(_l("Occupation group"), choices=_occupations, validators=[Optional()])
    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(min=18, max=80)])
    age_max = IntegerField(_l("Age to"), validators=[Optional(), NumberRange(min=18, max=80)])
    hosts = SelectMultipleField(_l("Co-hosting branches"), coerce=str, validators=[Optional()],
                                description=_l("The organising branch always hosts the event."))

    def data_for_service(self) -> dict:
        return {"title": self.title.data, "description": self.description.data or None,
                "starts_at": to_utc(self.starts_at.data), "ends_at": to_utc(self.ends_at.data),
                "place": self.place.data, "capacity": self.capacity.data,
                "max_gender_percent": self.max_gender_percent.data,
                "signup_deadline": to_utc(self.signup_deadline.data) if self.signup_deadline.data else None,
                "occupation_category": self.occupation_category.data or None,
                "age_min": self.age_min.data, "age_max": self.age_max.data}

    @staticmethod
    def values_of(event) -> dict:
        """The stored event as form values (also the "saved version" of an edit conflict)."""
        local = lambda dt: to_user_timezone(dt).replace(tzinfo=None) if dt else None  # noqa: E731
        return dict(title=event.title, description=event.description, starts_at=local(event.starts_at),
                    ends_at=local(event.ends_at), place=event.place, capacity=event.capacity,
                    max_gender_percent=event.max_gender_percent, signup_deadline=local(event.signup_deadline),
                    occupation_category=event.occupation_category or "", age_min=event.age_min,
                    age_max=event.age_max, hosts=[str(b.id) for b in event.hosts if b.id != event.branch_id],
                    version=str(event.version))

    @classmethod
    def for_event(cls, event):
        return cls(**cls.values_of(event))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=EventStatus.choices, validators=[DataRequired()])


class RegisterForm(FlaskForm):
    member_id = HiddenField(validators=[DataRequired()])


class CancelForm(FlaskForm):
    registration_id = HiddenField(validators=[DataRequired()])


class CheckInForm(FlaskForm):
    registration_id = HiddenField(validators=[DataRequired()])
    q = HiddenField()


def parse_badges(text: str) -> list[int]:
    """"3, 17 25" -> [3, 17, 25]; ValueError for anything else (full-width digits and commas too)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "")
    parts = [p for p in re.split(r"[\s,;、，；]+", text) if p]
    if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError(text)
    return [int(p) for p in parts]


class ChoicesForm(FlaskForm):
    badges = StringField(_l("Numbers chosen"), filters=STRIP, validators=[Length(max=200), *TEXT],
                         description=_l("The badge numbers on the member's choice card, separated by spaces "
                                        "or commas. Leave empty for none."))
    version = HiddenField()  # optimistic locking: the registration's choices_version the form was opened on

    def validate_badges(self, field):
        try:
            parse_badges(field.data)
        except ValueError:
            raise ValidationError(_l("Enter badge numbers only, separated by spaces or commas.")) from None


def _upper(value):
    return value.upper() if isinstance(value, str) else value


def _phone(id_):
    return StringField(_l("Mobile phone"), filters=WIDTH, id=id_,
                       validators=[DataRequired(), Length(max=11), mainland_mobile],
                       description=_l("The number your union volunteer has for you."))


def _id_last4(id_):
    return StringField(_l("Last 4 characters of your ID number"), filters=[*WIDTH, _upper], id=id_,
                       validators=[DataRequired(), Length(min=4, max=4),
                                   Regexp(r"^[0-9]{3}[0-9X]$", message=_l("Enter 4 digits (the last may be X)."))])


def _honeypot(id_):
    # Hidden from people by CSS (.hp), filled in by form-filling robots.
    return StringField(_l("Leave this field empty"), id=id_, validators=[Optional()])


class SelfSignupForm(FlaskForm):
    """A member signing up on the public event page: who they are, by two things they know."""

    phone = _phone("phone")
    id_last4 = _id_last4("id_last4")
    website = _honeypot("website")


class SelfCancelForm(FlaskForm):
    """The same questions for cancelling, in a second form on the same page (its own element ids)."""

    phone = _phone("cancel-phone")
    id_last4 = _id_last4("cancel-id_last4")
    website = _honeypot("cancel-website")
