"""Account forms used by the sign-in pages (first administrator, own password) and the admin pages."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from facesite.models import ROLES

MIN_PASSWORD = 10
USERNAME = [DataRequired(), Length(max=254),
            Regexp(r"^[A-Za-z0-9._@+-]+$", message="Letters, digits and . _ @ + - only.")]
NEW_PASSWORD = [DataRequired(), Length(min=MIN_PASSWORD, max=200,
                                       message=f"At least {MIN_PASSWORD} characters.")]


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=USERNAME)
    password = PasswordField("Password", validators=NEW_PASSWORD)
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords differ.")])
    role = SelectField("Role", choices=[SelectChoice(r) for r in ROLES], default="operator")
    submit = SubmitField("Create user")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=NEW_PASSWORD)
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("password", "The passwords differ.")])
    submit = SubmitField("Change password")
