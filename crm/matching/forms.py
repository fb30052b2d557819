from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from crm.members import vocab


class SuggestionFilterForm(FlaskForm):
    """Narrow the suggestions (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    district = SelectField(_l("District"), choices=lambda: vocab.area_choices(_l("Any district")), default="",
                           validators=[Optional()], description=_l("Where the candidate lives or works."))
    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(min=18, max=80)])
    age_max = IntegerField(_l("to"), validators=[Optional(), NumberRange(min=18, max=80)])

    def validate_age_max(self, field):
        if field.data is not None and self.age_min.data is not None and field.data < self.age_min.data:
            raise ValidationError(_l("The upper age must not be below the lower one."))


class WhyNotForm(FlaskForm):
    class Meta:
        csrf = False

    other = IntegerField(_l("Candidate number"), validators=[InputRequired(), NumberRange(min=1)],
                         description=_l("The member number of the person you expected to see."))
