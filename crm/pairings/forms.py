"""One form per action on introductions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.members.forms import STRIP, TEXT
from crm.members.models import NoteKind
from crm.pairings.models import ConsentChannel, PairingCloseReason, Source, Stage
from crm.pairings.queries import BOARD_MAX_DAYS


class MoveForm(FlaskForm):
    """One form, one submit button per allowed move (``name="to"``)."""

    version = HiddenField()
    to = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note on this move"), filters=STRIP, validators=[Optional(), Length(max=1000), *TEXT],
                         description=_l("Optional; required when reopening."))
    close_reason = SelectField(_l("Reason for closing"), validators=[Optional()],
                               choices=lambda: [SelectChoice("", "—"), *PairingCloseReason.choices()])

    def stage(self) -> Stage | None:
        try:
            return Stage(self.to.data)
        except ValueError:
            return None


class ConsentForm(FlaskForm):
    member_id = HiddenField()
    answer = RadioField(_l("Answer"), validators=[InputRequired()],
                        choices=[SelectChoice("yes", _l("Yes, introduce them")),
                                 SelectChoice("no", _l("No, decline"))])
    channel = SelectField(_l("Asked by"), choices=ConsentChannel.choices, default=ConsentChannel.PHONE.value)
    share_full_name = BooleanField(_l("Full name"))
    share_phone = BooleanField(_l("Mobile phone"))
    share_wechat = BooleanField(_l("WeChat ID"))
    share_photo = BooleanField(_l("Photo"))
    share_employer = BooleanField(_l("Employer"))


class ProposeForm(FlaskForm):
    member_id = IntegerField(_l("Candidate number"), validators=[InputRequired(), NumberRange(min=1)],
                             description=_l("The number shown next to a candidate below."))
    source = SelectField(_l("Source"), choices=Source.choices, default=Source.MANUAL.value)


class CandidateSearchForm(FlaskForm):
    class Meta:
        csrf = False

    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(min=18, max=80)])
    age_max = IntegerField(_l("to"), validators=[Optional(), NumberRange(min=18, max=80)])
    district = SelectField(_l("Work district"), validators=[Optional()])


class PairingNoteForm(FlaskForm):
    member_id = SelectField(_l("About my member"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=NoteKind.choices, default=NoteKind.CALL.value)
    body = TextAreaField(_l("Note"), filters=STRIP, validators=[DataRequired(), Length(max=4000), *TEXT])


class BoardFilterForm(FlaskForm):
    class Meta:
        csrf = False

    volunteer = SelectField(_l("Volunteer"), validators=[Optional()])
    branch = SelectField(_l("Branch"), validators=[Optional()])
    source = SelectField(_l("Source"), validators=[Optional()],
                         choices=lambda: [SelectChoice("", _l("Any")), *Source.choices()])
    min_days = IntegerField(_l("In this stage for at least (days)"), validators=[
        Optional(), NumberRange(min=0, max=BOARD_MAX_DAYS, message=_l("Enter a number of days from 0 to %(max)d."))])
    show_closed = BooleanField(_l("Show closed and married"))
