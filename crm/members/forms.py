"""One form per user action on members."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crm.clock import today
from crm.members import vocab
from crm.members.models import CloseReason, Education, Gender, MaritalHistory, MemberStatus, NoteKind, Tier
from crm.validators import (
    mainland_mobile,
    no_control_chars,
    normalise_width,
    person_name,
    resident_id,
    strip_filter,
)

TEXT = [no_control_chars]
STRIP = [strip_filter]
WIDTH = [normalise_width]  # phone, ID and search: full-width digits typed with a Chinese IME become ASCII


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _pairs(labels: dict):
    return [SelectChoice(key, label) for key, label in labels.items()]


def _optional_enum(enum_class, blank):
    return [SelectChoice("", blank)] + enum_class.choices()


def _per_language(build):
    """``build``'s choices, made once per language: every list page built them anew (lazy labels, each shown
    through a gettext) for the filter form's validation and again for its HTML (issue 10). A lazy label
    becomes the Markup that rendering it gave (``__html__``), so the options' HTML is unchanged."""
    from dataclasses import replace

    from flask_babel import get_locale
    from markupsafe import Markup
    made = {}

    def choices():
        key = str(get_locale())
        found = made.get(key)
        if found is None:
            found = made[key] = [replace(c, label=Markup(c.label.__html__())) if hasattr(c.label, "__html__") else c
                                 for c in build()]
        return found
    return choices


class MemberForm(FlaskForm):
    version = HiddenField()
    # Identity
    name = StringField(_l("Name"), filters=STRIP,
                       validators=[DataRequired(), Length(max=40), no_control_chars, person_name])
    gender = RadioField(_l("Gender"), choices=Gender.choices, validators=[InputRequired()])
    birth_date = DateField(_l("Date of birth"), validators=[InputRequired()],
                           description=_l("Members must be between 18 and 70."))
    phone = StringField(_l("Mobile phone"), filters=WIDTH, validators=[DataRequired(), mainland_mobile])
    wechat_id = StringField(_l("WeChat ID"), filters=STRIP, validators=[Optional(), Length(max=40), *TEXT])
    id_number = StringField(_l("Resident ID number"), filters=WIDTH, validators=[Optional(), resident_id],
                            description=_l("Only the last 4 characters and a keyed fingerprint are kept."))
    # Work and union
    employer = StringField(_l("Employer"), filters=STRIP, validators=[DataRequired(), Length(max=100), *TEXT])
    union_name = StringField(_l("Trade union"), filters=STRIP, validators=[Optional(), Length(max=100), *TEXT],
                             description=_l("The grassroots union the member belongs to."))
    is_union_member = BooleanField(_l("Union member"), default=True)
    occupation_category = SelectField(_l("Occupation category"),
                                      choices=lambda: _pairs(vocab.OCCUPATION_CATEGORIES))
    occupation = StringField(_l("Occupation"), filters=STRIP, validators=[Optional(), Length(max=60), *TEXT])
    education = SelectField(_l("Education"), choices=Education.choices)
    tier = RadioField(_l("Membership"), choices=Tier.choices, default=Tier.STANDARD.value)
    # Profile
    height_cm = IntegerField(_l("Height (cm)"), validators=[Optional(), NumberRange(120, 230)])
    hometown = StringField(_l("Hometown"), filters=STRIP, validators=[Optional(), Length(max=60), *TEXT])
    work_area = SelectField(_l("Work district"), choices=lambda: vocab.area_choices(_l("Choose…")),
                            validators=[DataRequired()])
    home_area = SelectField(_l("Home district"), choices=lambda: vocab.area_choices(_l("Choose…")),
                            validators=[DataRequired()])
    settle_city = SelectField(_l("Wants to settle in"), default="",
                              choices=lambda: [SelectChoice("", _l("Undecided")),
                                               *(SelectChoice(c) for c in vocab.CITIES)])
    marital_history = SelectField(_l("Marital history"), choices=MaritalHistory.choices)
    children_count = IntegerField(_l("Children"), default=0, validators=[InputRequired(), NumberRange(0, 10)])
    self_intro = TextAreaField(_l("Self-introduction"), filters=STRIP,
                               validators=[Optional(), Length(max=1000), *TEXT],
                               description=_l("In the member's own words; shown to candidates."))
    interests = MultiCheckboxField(_l("Interests"), choices=lambda: _pairs(vocab.INTERESTS))
    opt_out_suggestions = BooleanField(_l("Do not include in automatic suggestions"))
    # Partner preferences
    pref_age_min = IntegerField(_l("Partner age from"), validators=[Optional(), NumberRange(18, 70)])
    pref_age_max = IntegerField(_l("Partner age to"), validators=[Optional(), NumberRange(18, 70)])
    pref_height_min = IntegerField(_l("Partner height from (cm)"), validators=[Optional(), NumberRange(120, 230)])
    pref_height_max = IntegerField(_l("Partner height to (cm)"), validators=[Optional(), NumberRange(120, 230)])
    pref_min_education = SelectField(_l("Partner's minimum education"), default="",
                                     choices=lambda: _optional_enum(Education, _l("Any")))
    pref_districts = SelectMultipleField(_l("Partner's districts"), choices=lambda: vocab.area_choices(),
                                         description=_l("Leave empty to accept every district."))
    pref_accepts_divorced = BooleanField(_l("Accepts a divorced partner"), default=True)
    pref_accepts_children = BooleanField(_l("Accepts a partner with children"))

    def validate_birth_date(self, field):
        if field.data is None:  # not a date: the field already carries the parse error
            return
        age = _age_on(field.data, today())
        if not 18 <= age <= 70:
            raise ValidationError(_l("Members must be between 18 and 70 years old."))

    def validate_pref_age_max(self, field):
        if field.data and self.pref_age_min.data and field.data < self.pref_age_min.data:
            raise ValidationError(_l("The upper age must not be below the lower age."))

    def validate_pref_height_max(self, field):
        if field.data and self.pref_height_min.data and field.data < self.pref_height_min.data:
            raise ValidationError(_l("The upper height must not be below the lower height."))

    def validate_id_number(self, field):
        if field.data and self.birth_date.data and field.data[6:14] != self.birth_date.data.strftime("%Y%m%d"):
            raise ValidationError(_l("The ID number does not match the date of birth."))


# One radio group per values question, named value_<key>.
for _key, (_label, _low, _high) in vocab.VALUES_QUESTIONS.items():
    setattr(MemberForm, f"value_{_key}", RadioField(
        _label, choices=[SelectChoice(str(i)) for i in range(1, 6)], validators=[Optional()],
        description=_l("1 = %(low)s, 5 = %(high)s", low=_low, high=_high)))


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class NewMemberForm(MemberForm):
    owner_id = SelectField(_l("Volunteer"), coerce=str, validate_choice=True,
                           description=_l("Leave in the pool to assign later."))
    id_number = StringField(_l("Resident ID number"), filters=WIDTH, validators=[DataRequired(), resident_id],
                            description=_l("Only the last 4 characters and a keyed fingerprint are kept."))


class NoteForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=NoteKind.choices, default=NoteKind.CALL.value)
    contact_on = DateField(_l("Date of contact"), default=today, validators=[InputRequired()])
    body = TextAreaField(_l("Note"), filters=STRIP, validators=[DataRequired(), Length(max=4000), *TEXT])

    def validate_contact_on(self, field):
        if field.data is not None and field.data > today():
            raise ValidationError(_l("The date of contact cannot be in the future."))


class NoteEditForm(FlaskForm):
    version = HiddenField()
    body = TextAreaField(_l("Note"), filters=STRIP, validators=[DataRequired(), Length(max=4000), *TEXT])


class NoteDeleteForm(FlaskForm):
    """Deleting a note: the version it had when the confirmation was shown (a note corrected since is not
    deleted unseen)."""
    version = HiddenField(validators=[DataRequired()])


class VerifyForm(FlaskForm):
    check = HiddenField(validators=[DataRequired()])


class StatusForm(FlaskForm):
    version = HiddenField()
    # Every status is a valid choice, so that a refused one (from a page opened before an introduction moved) is
    # worded by the rule, crm.members.services.status_refusal; ``offer_from`` narrows what the select shows.
    status = SelectField(_l("Status"), choices=lambda: [SelectChoice(s.value, s.label) for s in MemberStatus])
    close_reason = SelectField(_l("Reason for closing"), choices=lambda: _optional_enum(CloseReason, "—"))

    def offer_from(self, current: MemberStatus) -> "StatusForm":
        """Show the case file's status as it is and what a user may change it to."""
        offered = {current, *current.choosable_by_hand()}
        self.status.choices = [SelectChoice(s.value, s.label) for s in MemberStatus if s in offered]
        return self

    def validate_close_reason(self, field):
        if self.status.data == MemberStatus.CLOSED.value and not field.data:
            raise ValidationError(_l("Choose why the case is being closed."))


def offer_from_current_status(form: StatusForm) -> None:
    """A blank status form's ``prepare`` (crm.blankforms): the form holds the case file's status."""
    form.offer_from(MemberStatus(form.status.data))


class ReassignForm(FlaskForm):
    to_user_id = SelectField(_l("New volunteer"), coerce=str, validators=[DataRequired()])
    reason = StringField(_l("Reason"), filters=STRIP, validators=[DataRequired(), Length(max=500), *TEXT],
                         description=_l("Kept in the case history and the audit log."))
    # Shown once the new volunteer would go above their capacity (services.capacity_warning).
    over_capacity_ok = BooleanField(_l("Assign anyway, above the volunteer's capacity"))
    # The owner when the form was shown ("" for the pool): a case reassigned meanwhile is not moved again unseen.
    from_owner = HiddenField()


class BulkReassignForm(ReassignForm):
    member_ids = SelectMultipleField(_l("Members"), coerce=int, validate_choice=False,
                                     validators=[DataRequired(_l("Select at least one member."))])
    next = HiddenField()


class SearchForm(FlaskForm):
    """GET filters: no CSRF, nothing changes."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, pinyin, initials or phone last 4"), filters=WIDTH,
                    validators=[Optional(), Length(max=40), no_control_chars])
    status = SelectField(_l("Status"), choices=_per_language(lambda: _optional_enum(MemberStatus, _l("Any status"))),
                         default="")
    gender = SelectField(_l("Gender"), choices=_per_language(lambda: _optional_enum(Gender, _l("Any gender"))),
                         default="")
    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(18, 70)])
    age_max = IntegerField(_l("Age to"), validators=[Optional(), NumberRange(18, 70)])
    district = SelectField(_l("District"), choices=_per_language(lambda: vocab.area_choices(_l("Any district"))),
                           default="")
    owner = SelectField(_l("Volunteer"), coerce=str, validate_choice=False, default="")
    page = IntegerField(default=1, validators=[Optional(), NumberRange(1, 100000)])
