"""One form per counselling action."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.clock import today
from crm.counselling.models import ConsentChannel, Risk, SessionMode, Topic
from crm.validators import no_control_chars, strip_filter, within_a_year

STRIP = [strip_filter]


class ReferralForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the referral"), filters=STRIP,
                           validators=[DataRequired(), Length(max=2000), no_control_chars],
                           description=_l("What the member would like help with. The counsellor reads this."))
    pairing_id = SelectField(_l("About an introduction"), default="", validators=[Optional()])
    self_referred = BooleanField(_l("The member asked for counselling themselves"))
    consent = BooleanField(_l("The member agreed to be referred to a counsellor"),
                           validators=[DataRequired(_l("Record the member's consent to the referral first."))])
    consent_channel = SelectField(_l("Consent given by"), choices=ConsentChannel.choices)


class EmptyForm(FlaskForm):
    """For buttons: the CSRF token only."""


class AssignForm(FlaskForm):
    version = HiddenField()  # the referral's version when the page was shown (optimistic locking)
    counsellor_id = SelectField(_l("Counsellor"), validators=[DataRequired()])


class ShareForm(FlaskForm):
    counsellor_id = SelectField(_l("Share the case with"), validators=[DataRequired()],
                                description=_l("That counsellor can then read your confidential notes of this case."))


class CloseForm(FlaskForm):
    version = HiddenField()  # the referral's version when the page was shown (optimistic locking)
    outcome = TextAreaField(_l("Outcome"), filters=STRIP,
                            validators=[DataRequired(), Length(max=2000), no_control_chars],
                            description=_l("Visible to the member's volunteer and supervisors: "
                                           "no confidential detail."))


class SessionForm(FlaskForm):
    held_on = DateField(_l("Date of the session"), default=today, validators=[InputRequired()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), default=50,
                                    validators=[InputRequired(), NumberRange(5, 480)])
    mode = SelectField(_l("Mode"), choices=SessionMode.choices)
    topic = SelectField(_l("Topic"), choices=Topic.choices)
    confidential_notes = TextAreaField(_l("Confidential notes"), filters=STRIP,
                                       validators=[DataRequired(), Length(max=20000), no_control_chars],
                                       description=_l("Only you, and counsellors you share the case with, "
                                                      "can read these."))
    shareable_summary = TextAreaField(_l("Shareable summary"), filters=STRIP,
                                      validators=[Optional(), Length(max=2000), no_control_chars],
                                      description=_l("Only what the member agreed to share with the volunteer "
                                                     "and the supervisors."))
    next_session_on = DateField(_l("Next session"), validators=[Optional(), within_a_year],
                                description=_l("Adds a follow-up for you on that day."))
    risk = SelectField(_l("Risk level"), choices=Risk.choices, default=Risk.NONE.value,
                       description=_l("A high risk alerts the branch supervisors at once (without your notes)."))
