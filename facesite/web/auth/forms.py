"""The sign-in form (the account forms shared with the admin pages are in access/forms.py)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class SecondStepForm(FlaskForm):
    """Signing in, second step: a code of the authenticator app, or one of the recovery codes."""
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Continue"))


class FactorSetupForm(FlaskForm):
    """Confirming a new authenticator app with a code it shows (and, to replace a factor, one of the old one)."""
    current = StringField(_l("Code from your current authenticator app"), validators=[Length(max=64)])
    code = StringField(_l("Code the app shows now"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Turn on the second factor"))


class RecoveryCodesForm(FlaskForm):
    """New recovery codes take a current code of the factor: a session left open must not be enough."""
    current = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Make new recovery codes"))
