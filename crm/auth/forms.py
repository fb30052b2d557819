from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from crm.validators import no_control_chars


class LoginForm(FlaskForm):
    # No control characters: PostgreSQL refuses a NUL in a query parameter with an error (a 500).
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40), no_control_chars])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


class EmptyForm(FlaskForm):
    """CSRF protection for buttons that post nothing else."""


class ConfirmPasswordForm(FlaskForm):
    """Re-entering the password before a sensitive action (crm.auth.reauth)."""
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
