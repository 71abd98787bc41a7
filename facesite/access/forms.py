"""Account forms used by the sign-in pages (first administrator, own password, a reset link) and the admin pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from facesite.access.passwords import MAX_LENGTH, MIN_LENGTH, StrongPassword
from facesite.i18n_names import ROLE_NAMES
from facesite.models import ROLES

USERNAME = [DataRequired(), Length(max=254),
            Regexp(r"^[A-Za-z0-9._@+-]+$", message=_l("Letters, digits and . _ @ + - only."))]
NEW_PASSWORD = [DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH,
                                       message=_l("At least %(count)s characters.", count=MIN_LENGTH)),
                StrongPassword()]


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=USERNAME)
    password = PasswordField(_l("Password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_NAMES[r]) for r in ROLES], default="operator")
    submit = SubmitField(_l("Create user"))


class NewPasswordForm(FlaskForm):
    """A new password, typed twice: an administrator setting it, or its owner through a reset link.
    ``account_name``: whose password it is (it may not contain the name)."""

    def __init__(self, *args, account_name: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_name = account_name

    password = PasswordField(_l("New password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the new password"), validators=[EqualTo("password", _l("The passwords differ."))])
    submit = SubmitField(_l("Set password"))


class PasswordForm(NewPasswordForm):
    """One's own new password, which takes the current one first."""
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    submit = SubmitField(_l("Change password"))
