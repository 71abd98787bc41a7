"""The daily purge: nothing that holds a picture or a full ID number is kept past its setting.

| record | holds | kept for | setting |
|---|---|---|---|
| kept form pictures, form outcomes | the photo sent (outcomes: masked details only) | hours | DRAFT_MAX_AGE_HOURS |
| register thumbnails | a 160-px face | days after enrolment | THUMBNAIL_KEEP_DAYS |
| batch jobs, by state | photos, the stored ZIP, full ID numbers | see batch/retention.py | BATCH_KEEP_* |
| ended sign-in sessions | who signed in from which address | 30 days | — |
| one-time links (setup, password reset) | a hash of a dead link, who made it | 30 days after expiry | — |
| second-factor secrets shown on the setup page, never confirmed | a sealed TOTP secret | 24 hours | — |
| a confirmed second factor, recovery codes | a sealed TOTP secret, hashed codes | until reset or the account is removed | — |

Every process's sweeper asks now and then; the first to claim the day's run (one conditional update
in the settings table) does it for the whole cluster. ``flask --app app purge`` runs it at once.
What was removed is logged as counts, never a name or a number.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from facesite.access import links, second_factor, sessions, throttle
from facesite.batch import retention as batch_retention
from facesite.config import settings
from facesite.drafts import drafts
from facesite.extensions import db
from facesite.models import Enrolment, utcnow

log = logging.getLogger(__name__)
SESSIONS_KEEP_DAYS = 30


def purge_if_due(now: datetime | None = None) -> dict[str, int] | None:
    """Purge, unless another process of the cluster did within the last day; None when not due."""
    now = now or utcnow()
    return purge(now) if batch_retention.claim_daily_run(now) else None


def purge(now: datetime | None = None, remember: bool = False) -> dict[str, int]:
    """Delete what is kept past its setting (the current app's); what went, counted by kind."""
    now, keep_thumbnail_days = now or utcnow(), settings().thumbnail_keep_days
    figures = batch_retention.purge(now, remember=remember)
    figures["drafts"] = drafts().sweep(now)  # kept pictures (rows and files) and form outcomes
    with db.engine.begin() as connection:
        figures["thumbnails"] = 0
        if keep_thumbnail_days:
            figures["thumbnails"] = connection.execute(update(Enrolment).where(
                Enrolment.thumbnail.is_not(None),
                Enrolment.enrolled_at < now - timedelta(days=keep_thumbnail_days))
                .values(thumbnail=None)).rowcount
    figures["sessions"] = sessions.purge(SESSIONS_KEEP_DAYS)
    figures["sessions"] += throttle.purge(now)
    figures["links"] = links.purge(now, SESSIONS_KEEP_DAYS)
    figures["factor_secrets"] = second_factor.purge(now)
    log.info("purge: %s", describe(figures))
    return figures


def describe(figures: dict[str, int]) -> str:
    """What a purge removed, in counts only (the log line and ``flask purge`` say the same)."""
    return (f"{batch_retention.describe(figures)}; deleted: kept pictures and form outcomes {figures['drafts']}, "
            f"register thumbnails {figures['thumbnails']}, old sign-in sessions {figures['sessions']}, "
            f"dead one-time links {figures['links']}, "
            f"second-factor secrets never confirmed {figures.get('factor_secrets', 0)}")
