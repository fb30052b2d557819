"""The period and branch filter shared by the statistics pages and exports."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from crm.clock import today

#: The longest period a report may cover (days): ten years.
MAX_PERIOD_DAYS = 3660


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[InputRequired()],
                      default=lambda: date(today().year, 1, 1))
    end = DateField(_l("To (included)"), validators=[InputRequired()], default=today)
    branch = SelectField(_l("Branch"), validators=[Optional()], default="")

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end of the period cannot be before its start."))
            if (field.data - self.start.data).days >= MAX_PERIOD_DAYS:
                raise ValidationError(_l("A period can be at most ten years long."))

    def validate_branch(self, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(_l("Choose a branch from the list."))


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = SelectField(_l("Year"), validators=[InputRequired()], coerce=int)
    branch = SelectField(_l("Branch"), validators=[InputRequired()])

    def validate_branch(self, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(_l("Choose a branch from the list."))


class CapacityForm(FlaskForm):
    version = HiddenField()  # the user record's version when the form was shown (optimistic locking, crm.admin)
    max_caseload = IntegerField(_l("Maximum caseload"), validators=[Optional(), NumberRange(min=0, max=1000)],
                                description=_l("Open case files this volunteer can look after. Empty: no limit."))


def year_choices():
    this = today().year
    return [SelectChoice(y, str(y)) for y in range(this, this - 10, -1)]

