"""The language a batch job's threads write in: its owner's, since there is no request to choose one from."""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import force_locale

from facesite.config import settings
from facesite.extensions import db
from facesite.i18n_settings import known_locale
from facesite.models import User


@contextmanager
def speaking_to(username: str | None):
    """Words written inside (row problems, the job's notes) are in ``username``'s language, else the default."""
    code = db.session.scalar(db.select(User.locale).filter_by(username=username)) if username else None
    with force_locale(known_locale(code) or settings().babel_default_locale):
        yield
