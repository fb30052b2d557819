from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, SelectField
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


class WeightsForm(FlaskForm):
    """An admin tunes how much each part of the score counts for one branch."""

    branch_id = SelectField(_l("Branch"), coerce=int, validators=[InputRequired()])
    interests = FloatField(_l("Shared interests"), validators=[InputRequired(), NumberRange(min=0, max=10)],
                           description=_l("Rare shared interests count more than common ones."))
    values = FloatField(_l("Values answers"), validators=[InputRequired(), NumberRange(min=0, max=10)])
    life_goals = FloatField(_l("Life goals"), validators=[InputRequired(), NumberRange(min=0, max=10)],
                            description=_l("Wish for children and the city to settle in."))
    soft = FloatField(_l("Soft preferences"), validators=[InputRequired(), NumberRange(min=0, max=10)],
                      description=_l("Closeness to the middle of the preferred age and height."))
    distance = FloatField(_l("Distance"), validators=[InputRequired(), NumberRange(min=0, max=10)],
                          description=_l("Same district, same city, or further."))

    version = HiddenField()  # optimistic locking: the branch's weights version the form was opened on

    WEIGHT_FIELDS = ("interests", "values", "life_goals", "soft", "distance")

    def validate_distance(self, field):
        if all(isinstance(getattr(self, n).data, float | int) for n in self.WEIGHT_FIELDS) and \
                sum(getattr(self, n).data for n in self.WEIGHT_FIELDS) <= 0:
            raise ValidationError(_l("At least one weight must be above zero."))
