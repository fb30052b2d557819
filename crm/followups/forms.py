"""Forms for follow-ups."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.clock import today
from crm.followups.models import FollowUpKind
from crm.members.forms import STRIP, TEXT
from crm.validators import within_a_year


class FollowUpForm(FlaskForm):
    due_on = DateField(_l("Due on"), default=lambda: today() + timedelta(days=7),
                       validators=[InputRequired(), within_a_year])
    kind = SelectField(_l("Kind"), choices=FollowUpKind.choosable, default=FollowUpKind.OTHER.value)
    title = StringField(_l("What to do"), filters=STRIP, validators=[Optional(), Length(max=200), *TEXT])

    def validate_due_on(self, field):
        if field.data is None:  # not a date: the field already carries the parse error
            return
        if field.data < today():
            raise ValidationError(_l("The due date cannot be in the past."))


class CompleteForm(FlaskForm):
    version = HiddenField()  # the follow-up's version when the row was shown (optimistic locking)
    outcome = TextAreaField(_l("Outcome"), filters=STRIP, validators=[DataRequired(), Length(max=2000), *TEXT])


class FollowUpFilterForm(FlaskForm):
    class Meta:
        csrf = False

    scope = SelectField(_l("Whose"), validators=[Optional()],
                        choices=[SelectChoice("mine", _l("Mine")), SelectChoice("branch", _l("Everyone in my branch"))])
    show = SelectField(_l("Show"), validators=[Optional()],
                       choices=[SelectChoice("open", _l("All open")), SelectChoice("overdue", _l("Overdue")),
                                SelectChoice("today", _l("Due today")), SelectChoice("done", _l("Done"))])
