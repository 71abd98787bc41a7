"""Account names that only look alike: ``аdmin`` with a Cyrillic а, ``ａｄｍｉｎ`` in full-width letters.

Each would be a separate account listed beside the real one, and a person reading the list, the
security log or a job's owner could not tell them apart. Names are compared by a skeleton: the name
NFKC-normalised (full-width and other compatibility forms become plain letters) and case-folded, then
each letter that is not ASCII replaced by the ASCII letter it is drawn like, where Unicode lists one
(confusable_homoglyphs carries Unicode's list of confusable characters).
"""
from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import confusables

from facesite.extensions import db
from facesite.models import User


@functools.lru_cache(maxsize=4096)
def _drawn_like(char: str) -> str:
    """The ASCII character ``char`` is drawn like, or ``char`` itself when none is listed."""
    if char.isascii():
        return char
    for found in confusables.is_confusable(char, greedy=True) or ():
        for glyph in found["homoglyphs"]:
            if glyph["c"].isascii():
                return glyph["c"].lower()
    return char


def skeleton(name: str) -> str:
    """What ``name`` looks like: names with the same skeleton cannot be told apart by eye."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(_drawn_like(char) for char in unicodedata.normalize("NFKC", folded))


def look_alike_of(username: str) -> str | None:
    """The name of an existing account that looks like ``username`` (but is not it), or None."""
    wanted = skeleton(username)
    # Staff accounts number in the hundreds: comparing with each is cheaper than keeping a column in step.
    for (existing,) in db.session.execute(db.select(User.username)):
        if existing != username and skeleton(existing) == wanted:
            return existing
    return None
