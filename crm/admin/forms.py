from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from crm.members.forms import MultiCheckboxField
from crm.validators import no_control_chars

PASSWORD_MIN = 12


def password_field(label):
    return PasswordField(label, validators=[DataRequired(), Length(min=PASSWORD_MIN, max=200)],
                         description=_l("At least %(n)s characters.", n=PASSWORD_MIN))


class UserForm(FlaskForm):
    version = HiddenField()  # the user record's version when the edit form was opened (optimistic locking)
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40), no_control_chars])
    branch = SelectField(_l("Branch"), validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), validators=[DataRequired()])


class NewUserForm(UserForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(min=2, max=40),
        Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, dots, dashes and underscores only."))])
    password = password_field(_l("Initial password"))


class ResetPasswordForm(FlaskForm):
    password = password_field(_l("New password"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two new passwords differ."))])
