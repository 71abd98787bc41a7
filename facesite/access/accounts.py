"""Creating accounts (typed by an administrator, or vouched for by an identity proxy or the company's
sign-in), checking sign-ins with lock-out, and the first administrator's one-time link (access/links.py
makes and checks it; a password reset uses the same kind of link)."""
from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from facesite import security_events
from facesite.access import links, passwords, second_factor, throttle
from facesite.access.look_alike import look_alike_of
from facesite.extensions import db
from facesite.models import ROLES, BatchJob, Draft, SecurityEvent, User, utcnow

log = logging.getLogger(__name__)
SETUP_LINK_HOURS = 24


class AccountError(ValueError):
    pass


def create_user(username: str, password: str | None, role: str) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(_("role must be one of %(roles)s", roles=", ".join(ROLES)))
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise AccountError(_("a user named %(name)s exists already", name=repr(username)))
    if name_is_retired(username):
        raise AccountError(_("%(name)s belonged to an account that was removed; its results and batch jobs "
                             "still carry the name, so choose another one", name=repr(username)))
    look_alike = look_alike_of(username)
    if look_alike is not None:
        security_events.record("access_denied", subject=username,
                               detail=f"new account name looks like the account {look_alike!r}: refused")
        raise AccountError(_("%(name)s looks like the name of the account %(other)s: staff could not tell them "
                             "apart, so choose another one", name=repr(username), other=repr(look_alike)))
    user = User(username=username, role=role)
    if password:
        try:
            passwords.set_password(user, password)
        except passwords.WeakPassword as weak:
            raise AccountError(str(weak)) from None
    if not inserted(user):
        raise AccountError(_("a user named %(name)s exists already", name=repr(username)))
    return user


def inserted(user: User) -> bool:
    """Adds a new account; False when a parallel request made one of that name (or identity) a moment ago
    and the database's unique key refused this one."""
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


@dataclass(frozen=True)
class OutsideIdentity:
    """Someone an identity proxy (``source="header"``) or the company's OpenID Connect sign-in (``"oidc"``)
    vouches for."""

    source: str
    username: str
    role: str | None  # what their groups give now; None: they are let in nowhere
    issuer: str | None = None  # OpenID Connect: who vouches, and for which of its subjects
    subject: str | None = None

    @property
    def where(self) -> str:
        return "the proxy" if self.source == "header" else "the company sign-in"

    def existing_account(self) -> User | None:
        if self.issuer is not None:  # a provider's subject is the person; a name may change
            return db.session.scalar(db.select(User).filter_by(identity_issuer=self.issuer,
                                                               identity_subject=self.subject))
        return db.session.scalar(db.select(User).filter_by(username=self.username, source=self.source))


class NotLetIn(Exception):
    """An outside identity the portal refuses; ``reason`` is one of REFUSALS (written to the security log)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


REFUSALS = ("no_role", "name_taken", "retired", "look_alike")


def account_for(person: OutsideIdentity, *, role_follows_groups: bool = True) -> User:
    """The portal's account for an outside identity, made the first time it is seen; with
    ``role_follows_groups`` its role is what its groups give now. Raises NotLetIn (and writes why to the
    security log) for someone in no group that gives a role, an identity whose name belongs to another
    account (a password account, or another source's: never the same person) or only looks like one
    (look_alike.py), or a removed account's name.
    A disabled account is returned as it is: the caller refuses it."""
    def refuse(reason: str, detail: str):
        security_events.record("access_denied", actor=person.username, subject=person.username,
                               detail=f"{person.where} identity {detail}")
        return NotLetIn(reason)

    if person.role is None:
        raise refuse("no_role", "in no group that gives a role")
    user = person.existing_account()
    if user is None:
        taken = db.session.scalar(db.select(User).filter_by(username=person.username))
        if taken is not None:
            log.warning("%s identity %r has the name of a %s account: refused", person.source, person.username,
                        taken.source)
            raise refuse("name_taken", f"has the name of a {taken.source} account")
        if name_is_retired(person.username):
            raise refuse("retired", "of a removed account")
        look_alike = look_alike_of(person.username)
        if look_alike is not None:
            raise refuse("look_alike", f"has a name that looks like the account {look_alike!r}")
        user = User(username=person.username, role=person.role, source=person.source,
                    identity_issuer=person.issuer, identity_subject=person.subject)
        if inserted(user):
            security_events.record("user_created", actor=user.username, subject=user.username,
                                   detail=f"from {person.where}, {person.role}")
            return user
        user = person.existing_account()  # the same person's other request made it a moment ago
        if user is None:
            raise refuse("name_taken", "has the name of another account")
    elif role_follows_groups and user.role != person.role:  # the groups outside decide, every time
        security_events.record("role_changed", actor=user.username, subject=user.username,
                               detail=f"{user.role} → {person.role}, from {person.where}'s groups")
        user.role = person.role
        db.session.commit()
    return user


def name_is_retired(username: str) -> bool:
    """A removed account's name is never given out again: what it made (results, kept pictures, batch
    jobs) belongs to the name, and a newcomer under it would inherit them."""
    owned = [db.select(SecurityEvent.id).where(SecurityEvent.event == "user_removed", SecurityEvent.subject == username),
             db.select(Draft.key).where(Draft.owner == username),
             db.select(BatchJob.id).where(BatchJob.created_by == username)]
    return any(db.session.scalar(query.limit(1)) is not None for query in owned)


@functools.cache
def _stand_in_hash() -> str:
    """A hash to check against when the name is unknown or disabled: the same scrypt work either way."""
    return generate_password_hash(secrets.token_urlsafe(16))


@dataclass
class SignIn:
    user: User | None
    problem: str = ""
    locked_seconds: int = 0
    throttle_key: str = ""
    account_name: str | None = None  # the name, when such an account exists (for the security log)
    warning: str = ""  # after a wrong password: how many tries are left before the name is locked
    second_step: bool = False  # the password was right; a code of the account's second factor comes next


def minutes_phrase(minutes: int) -> str:
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)


def tries_left_warning(tries_left: int, lock_minutes: int) -> str:
    """The same words for every name typed, real or made up: they come from the count of attempts under
    the name (or browser) alone, which the throttle keeps for any name."""
    minutes = minutes_phrase(lock_minutes)
    if tries_left == 0:
        return _("No tries left: this username is locked for %(minutes)s.", minutes=minutes)
    return ngettext("%(num)s try left before this username is locked for %(minutes)s.",
                    "%(num)s tries left before this username is locked for %(minutes)s.", tries_left, minutes=minutes)


WRONG = _l("Wrong username or password.")


def authenticate(username: str, password: str, device_cookie: str | None, max_failures: int,
                 lock_minutes: int) -> SignIn:
    """Check a sign-in. Real, made-up and disabled names get the same work and the same words; attempts
    are counted atomically before the password is checked (see throttle.py)."""
    name = username.strip().lower()
    key = throttle.device_key(device_cookie, name) or throttle.account_key(name)
    locked = throttle.attempt(key, max_failures, lock_minutes)
    user = db.session.scalar(db.select(User).filter_by(username=name, source="local"))
    known = user.username if user is not None else None
    if locked:
        minutes = max(1, round(locked / 60))
        return SignIn(None, ngettext("Too many failed sign-ins for this username: try again in about %(num)s minute, "
                                     "or from a browser you have signed in with before.",
                                     "Too many failed sign-ins for this username: try again in about %(num)s minutes, "
                                     "or from a browser you have signed in with before.", minutes), locked, key, known)
    usable = user is not None and user.is_active and user.password_hash is not None
    if not check_password_hash(user.password_hash if usable else _stand_in_hash(), password) or not usable:
        warning = tries_left_warning(throttle.failed(key, max_failures, lock_minutes), lock_minutes)
        return SignIn(None, str(WRONG), 0, key, known, warning)
    if second_factor.is_on(user):
        # The count goes on until the code is right too: a known password must not buy fresh tries at codes.
        return SignIn(user, "", 0, key, known, second_step=True)
    throttle.succeeded(key)
    user.last_login_at = utcnow()
    db.session.commit()
    return SignIn(user, "", 0, key, known)


def no_users_yet() -> bool:
    """True until the first account exists (the first administrator comes from the setup link)."""
    return db.session.scalar(db.select(User.id).limit(1)) is None


def issue_setup_link() -> str | None:
    """With no users and no live link, make a one-time token; returns it (to print) or None."""
    if not no_users_yet():
        return None
    if db.session.scalar(links.live(links.SETUP)) is not None:
        return None
    try:
        token, _link = links.issue(links.SETUP, SETUP_LINK_HOURS)
    except IntegrityError:
        db.session.rollback()
        return None
    return token


def setup_token_is_valid(token: str) -> bool:
    return links.look_up(links.SETUP, token).state == links.VALID and no_users_yet()


def create_first_administrator(token: str, username: str, password: str) -> User | None:
    """The first administrator, made with the setup link in one transaction: the link is claimed first (a
    conditional update, so of two requests sent at once only one gets past it), then the account added,
    then both committed together. None: the link was used a moment ago, or an account exists already.
    An AccountError (a name or password refused) leaves the link unused."""
    found = links.look_up(links.SETUP, token)
    if found.state != links.VALID or not links.use(found.link) or not no_users_yet():
        db.session.rollback()
        return None
    try:
        return create_user(username, password, "admin")  # commits the link's use with the account
    except AccountError:
        db.session.rollback()
        raise
