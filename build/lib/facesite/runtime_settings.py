"""Settings administrators change at run time, stored in the database; the environment gives defaults
(facesite/config.py)."""
from __future__ import annotations

from flask import current_app, g

from facesite.extensions import db
from facesite.models import Setting

PREPARE_PICTURES = "prepare_pictures"


def prepare_pictures() -> bool:
    """Whether uploaded pictures are prepared (rotated, converted, scaled, stripped) before sending.
    Read once per request: the form check and the page both ask."""
    if "prepare_pictures" not in g:
        row = db.session.get(Setting, PREPARE_PICTURES)
        g.prepare_pictures = current_app.config["PREPARE_PICTURES"] if row is None else row.value == "1"
    return g.prepare_pictures


def set_prepare_pictures(on: bool, by: str) -> None:
    row = db.session.get(Setting, PREPARE_PICTURES) or Setting(key=PREPARE_PICTURES)
    row.value, row.changed_by = ("1" if on else "0"), by
    db.session.add(row)
    db.session.commit()
    g.pop("prepare_pictures", None)
