"""The one rule every new password meets (ASVS 2.1.7), and the one place a password is set.

A password of the portal is at least MIN_LENGTH characters, does not contain its account's name, and is
hard to guess: zxcvbn scores it (0-4) against its own lists of common and leaked passwords, words, names,
dates, repeats and keyboard runs, offline, and anything under MIN_SCORE is refused with words the person
can act on. The forms check it first (StrongPassword, so the form comes back with the reason beside the
field), and ``set_password`` checks it again, so no path (a form, the command line, code) sets a weak one.
"""
from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.security import generate_password_hash
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn

from facesite.models import User

MIN_LENGTH, MAX_LENGTH = 10, 200  # the forms refuse a longer one before it is hashed
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable" against an online attack, 4 even offline
SCORED_CHARS = 72  # zxcvbn takes no longer password; a guesser would have to get these right first anyway
NAME_PART_MIN = 3  # parts of a name shorter than this are found in too many good passwords by chance


class WeakPassword(ValueError):
    """A password the rule refuses; the message (translated) says why."""


def _name_parts(username: str | None) -> set[str]:
    """The account's name, and for an address its part before the @, in lower case."""
    name = (username or "").strip().lower()
    return {part for part in (name, name.split("@", 1)[0]) if len(part) >= NAME_PART_MIN}


def problem(password: str, username: str | None) -> str | None:
    """Why ``password`` may not be used by the account ``username`` (None: it may)."""
    if len(password) < MIN_LENGTH:
        return _("At least %(count)s characters.", count=MIN_LENGTH)
    parts = _name_parts(username)
    if any(part in password.lower() for part in parts):
        return _("The password may not contain the username.")
    if zxcvbn(password[:SCORED_CHARS], user_inputs=sorted(parts))["score"] < MIN_SCORE:
        return _("This password is too easy to guess: it is a common or leaked password, or a word, name, date or "
                 "row of keys with little added. Choose a passphrase of three or four unrelated words.")
    return None


def set_password(user: User, password: str) -> None:
    """Give ``user`` this password (hashed: werkzeug's scrypt, salted), in the caller's transaction; raises
    WeakPassword when the rule refuses it."""
    found = problem(password, user.username)
    if found:
        raise WeakPassword(found)
    user.password_hash = generate_password_hash(password)


class StrongPassword:
    """The rule as a form validator. The account's name is the form's username field when it has one
    (a new account), else the form's ``account_name`` (a new password for an existing account)."""

    def __call__(self, form, field) -> None:
        username = form.username.data if "username" in form else getattr(form, "account_name", None)
        found = problem(field.data or "", username)
        if found:
            raise ValidationError(found)
