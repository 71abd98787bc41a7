"""Settings administrators change at run time, stored in the database; the environment gives defaults
(facesite/config.py)."""
from __future__ import annotations

from flask import current_app, g

from facesite.extensions import db
from facesite.models import Setting

PREPARE_PICTURES = "prepare_pictures"
CHECK_DUPLICATES = "check_duplicates"  # the enrol form's duplicate check starts ticked


def _flag(key: str) -> bool:
    """An on/off setting, read once per request (the form check and the page both ask)."""
    if key not in g:
        row = db.session.get(Setting, key)
        setattr(g, key, current_app.config[key.upper()] if row is None else row.value == "1")
    return g.get(key)


def _set_flag(key: str, on: bool, by: str) -> None:
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value, row.changed_by = ("1" if on else "0"), by
    db.session.add(row)
    db.session.commit()
    g.pop(key, None)


def prepare_pictures() -> bool:
    """Whether uploaded pictures are prepared (rotated, converted, scaled, stripped) before sending."""
    return _flag(PREPARE_PICTURES)


def set_prepare_pictures(on: bool, by: str) -> None:
    _set_flag(PREPARE_PICTURES, on, by)


def check_duplicates() -> bool:
    """Whether the enrol form's "search this face set first" starts ticked."""
    return _flag(CHECK_DUPLICATES)


def set_check_duplicates(on: bool, by: str) -> None:
    _set_flag(CHECK_DUPLICATES, on, by)
