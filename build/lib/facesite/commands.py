"""Operator commands: ``flask --app app create-user USERNAME --role ROLE``."""
import os

import click
from flask.cli import with_appcontext

from facesite import security_events
from facesite.access.accounts import AccountError, create_user
from facesite.access.forms import MIN_PASSWORD
from facesite.models import ROLES


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="operator", show_default=True)
@with_appcontext
def create_user_command(username, role):
    """Create a staff account. The password comes from $FACESITE_PASSWORD, else it is asked for."""
    password = os.environ.get("FACESITE_PASSWORD") or click.prompt("Password", hide_input=True,
                                                                     confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD} characters")
    try:
        user = create_user(username, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    security_events.record("user_created", actor="command line", subject=user.username,
                           detail=f"role {user.role}, created with flask create-user")
    click.echo(f"created {user.username} ({user.role})")


@click.command("purge")
@with_appcontext
def purge_command():
    """Delete now what is kept past its time: kept form pictures (DRAFT_MAX_AGE_HOURS), register thumbnails
    (THUMBNAIL_KEEP_DAYS), batch pictures, stored uploads and full ID numbers (BATCH_KEEP_*), old sign-in
    sessions. The portal also does it once a day by itself."""
    from flask import current_app

    from facesite.retention import describe, purge

    click.echo("purge: " + describe(purge(current_app.config, remember=True)))
