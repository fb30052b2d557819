"""Forms of the intake area: the public application, the supervisor's decisions, the roster upload."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from crm.clock import today
from crm.members import vocab
from crm.members.forms import TEXT, WIDTH, MultiCheckboxField, _age_on, _pairs
from crm.members.models import Education, Gender, MaritalHistory
from crm.validators import mainland_mobile, no_control_chars, person_name, resident_id, strip_filter

STRIP = [strip_filter]


class ApplicationForm(FlaskForm):
    """职工点单: what a worker fills in on their phone. Short on purpose; the volunteer completes the rest."""

    branch_id = SelectField(_l("Union service centre"), coerce=str, validators=[DataRequired()],
                            description=_l("The service centre that will look after you."))
    name = StringField(_l("Name"), filters=STRIP,
                       validators=[DataRequired(), Length(max=40), no_control_chars, person_name])
    gender = RadioField(_l("Gender"), choices=Gender.choices, validators=[InputRequired()])
    birth_date = DateField(_l("Date of birth"), validators=[InputRequired()])
    id_number = StringField(_l("Resident ID number"), filters=WIDTH,
                            validators=[DataRequired(), Length(max=18), resident_id],
                            description=_l("Only the last 4 characters and a keyed fingerprint are kept."))
    phone = StringField(_l("Mobile phone"), filters=WIDTH, validators=[DataRequired(), Length(max=11), mainland_mobile])
    wechat_id = StringField(_l("WeChat ID"), filters=STRIP, validators=[Optional(), Length(max=40), *TEXT])
    employer = StringField(_l("Employer"), filters=STRIP, validators=[DataRequired(), Length(max=100), *TEXT])
    union_name = StringField(_l("Trade union"), filters=STRIP, validators=[Optional(), Length(max=100), *TEXT])
    occupation_category = SelectField(_l("Occupation category"),
                                      choices=lambda: _pairs(vocab.OCCUPATION_CATEGORIES))
    education = SelectField(_l("Education"), choices=Education.choices)
    marital_history = SelectField(_l("Marital history"), choices=MaritalHistory.choices)
    height_cm = IntegerField(_l("Height (cm)"), validators=[Optional(), NumberRange(120, 230)])
    work_area = SelectField(_l("Work district"), choices=lambda: vocab.area_choices(_l("Choose…")),
                            validators=[DataRequired()])
    home_area = SelectField(_l("Home district"), choices=lambda: vocab.area_choices(_l("Choose…")),
                            validators=[DataRequired()])
    self_intro = TextAreaField(_l("A few words about yourself"), filters=STRIP,
                               validators=[Optional(), Length(max=1000), *TEXT])
    interests = MultiCheckboxField(_l("Interests"), choices=lambda: _pairs(vocab.INTERESTS))
    consent_processing = BooleanField(validators=[DataRequired(_l(
        "We can only keep your application with your consent to data processing."))])
    consent_sharing = BooleanField()
    consent_photo = BooleanField()
    # Honeypot: hidden from people by CSS (.hp), filled in by form-filling robots.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def validate_birth_date(self, field):
        if field.data is None:
            return
        if field.data > today():
            raise ValidationError(_l("The date of birth cannot be in the future."))
        if not 18 <= _age_on(field.data, today()) <= 70:
            raise ValidationError(_l("Members must be between 18 and 70 years old."))

    def validate_id_number(self, field):
        if field.data and self.birth_date.data and field.data[6:14] != self.birth_date.data.strftime("%Y%m%d"):
            raise ValidationError(_l("The ID number does not match the date of birth."))


class AcceptForm(FlaskForm):
    owner_id = SelectField(_l("Volunteer"), coerce=str, validate_choice=True,
                           description=_l("Leave in the pool to assign later."))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=STRIP, validators=[DataRequired(), Length(max=500), *TEXT])


class UploadForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx or .csv)"))
    branch_id = SelectField(_l("Import into service centre"), coerce=str)


class ConfirmForm(FlaskForm):
    """The CSRF token only: confirming imports the good rows of the previewed file."""


def pool_choices(volunteers, pool_label):
    return [SelectChoice("", pool_label)] + [SelectChoice(str(u.id), u.display_name) for u in volunteers]
