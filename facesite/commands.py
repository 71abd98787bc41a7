"""Operator commands: ``flask --app app create-user USERNAME --role ROLE``, ``reset-password USERNAME``, ``purge``."""
import os

import click
from flask.cli import with_appcontext

from facesite import security_events
from facesite.access import password_reset, passwords
from facesite.access.accounts import AccountError, create_user
from facesite.extensions import db
from facesite.models import ROLES, User
from facesite.retention import describe, purge


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="operator", show_default=True)
@with_appcontext
def create_user_command(username, role):
    """Create a staff account. The password comes from $FACESITE_PASSWORD, else it is asked for."""
    password = os.environ.get("FACESITE_PASSWORD") or click.prompt("Password", hide_input=True,
                                                                     confirmation_prompt=True)
    refused = passwords.problem(password, username)
    if refused:
        raise click.ClickException(f"password refused: {refused}")
    try:
        user = create_user(username, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    security_events.record("user_created", actor="command line", subject=user.username,
                           detail=f"role {user.role}, created with flask create-user")
    click.echo(f"created {user.username} ({user.role})")


@click.command("reset-password")
@click.argument("username")
@with_appcontext
def reset_password_command(username):
    """Print a one-time link with which USERNAME chooses a new password (works once, for
    PASSWORD_RESET_LINK_HOURS hours; a newer link replaces it). Their sessions end when it is used."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account is named {username!r}")
    try:
        token, link = password_reset.make_link(user, "command line")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"One-time link for {user.username}, works once until {link.expires_at:%Y-%m-%d %H:%M} UTC:")
    click.echo(password_reset.address(token))


@click.command("purge")
@with_appcontext
def purge_command():
    """Delete now what is kept past its time: kept form pictures (DRAFT_MAX_AGE_HOURS), register thumbnails
    (THUMBNAIL_KEEP_DAYS), batch pictures, stored uploads and full ID numbers (BATCH_KEEP_*), old sign-in
    sessions. The portal also does it once a day by itself."""
    click.echo("purge: " + describe(purge(remember=True)))
