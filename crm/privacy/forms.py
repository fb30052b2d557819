from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.privacy.texts import Channel, Purpose

#: Channels staff record by hand (self-registration, import and legacy are recorded by the system).
STAFF_CHANNELS = (Channel.IN_PERSON, Channel.PHONE, Channel.PAPER)


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo"), validators=[FileRequired(_l("Choose a photo to upload."))],
                      description=_l("JPEG, PNG or WebP, at most 5 MB. Location data is removed."))


class ConsentForm(FlaskForm):
    purpose = SelectField(_l("Consent"), choices=Purpose.choices(), validators=[InputRequired()])
    given = RadioField(_l("The member"), validators=[InputRequired()],
                       choices=[SelectChoice("given", _l("gives this consent")),
                                SelectChoice("withdrawn", _l("withdraws this consent"))])
    channel = SelectField(_l("How"), validators=[InputRequired()],
                          choices=[SelectChoice(c.value, c.label) for c in STAFF_CHANNELS])
    comment = StringField(_l("Comment"), validators=[Optional(), Length(max=300)])


class ExportForm(FlaskForm):
    fmt = RadioField(_l("Format"), default="pdf", validators=[InputRequired()],
                     choices=[SelectChoice("pdf", _l("Readable PDF")),
                              SelectChoice("json", _l("JSON (machine-readable)"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)],
                           description=_l("For example: the member asked for a copy of their data."))


class EraseForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)],
                           description=_l("For example: the member asked to be deleted on 3 March."))
    confirm = BooleanField(_l("I understand that this cannot be undone."),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
