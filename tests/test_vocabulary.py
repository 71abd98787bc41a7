"""The portal's English words (docs/vocabulary.md): the retired ones never come back, in a message or in
a template's own text, and counts, times and scores are written the one way the file says."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from facesite.sandbox import DEMO_FACE_SET_NAME
from tests.test_translations import extracted

ROOT = Path(__file__).resolve().parent.parent
# Retired word -> what to write instead (docs/vocabulary.md).
RETIRED = {
    r"\bAdd face\b": "Enrol",
    r"\bFace added\b": "Face enrolled",
    r"\bExternal reference\b": "Reference",
    r"\bexternalReferenceId\b": "reference",
    r"\bID card type\b": "ID type",
    r"\btopK\b": "Most matches to show",
    r"\bthreshold\b": "minimum score",
    r"\w\((?:s|es)\)": "a proper plural (ngettext)",
    r"^faceImage:": "plain words for the picture",
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# A template's own text: what is left once Jinja's tags, expressions, comments and attribute values are gone.
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
ATTRIBUTE = re.compile(r'\s[\w:-]+="[^"]*"')


def retired_in(text: str) -> list[str]:
    return [f"{word} (write: {instead})" for word, instead in RETIRED.items()
            if re.search(word, text, re.IGNORECASE | re.MULTILINE)]


def test_no_message_uses_a_retired_word():
    found = {}
    for _context, message in extracted():
        for text in (message if isinstance(message, tuple) else (message,)):
            if hits := retired_in(PLACEHOLDER.sub("", text)):
                found[text] = hits
    assert not found, found


def test_no_template_text_uses_a_retired_word():
    found = {}
    for template in (ROOT / "templates").rglob("*.html"):
        text = ATTRIBUTE.sub(" ", JINJA.sub(" ", template.read_text()))
        if hits := retired_in(text):
            found[str(template.relative_to(ROOT))] = hits
    assert not found, found


@pytest.mark.parametrize("word", ["Add face", "topK", "match(es)", "External reference"])
def test_the_check_itself_catches_each_kind_of_retired_word(word):
    assert retired_in(f"Some text with {word} in it")


def test_pages_write_counts_times_and_scores_the_one_way(app, client):
    from facesite.extensions import db
    from facesite.models import Enrolment
    from facesite.web.i18n import local_time

    with app.app_context():
        db.session.add(Enrolment(face_set_id="demo", face_id="901", external_reference_id="V-1", name="Vocab Person",
                                 enrolled_by="otto", enrolled_at=datetime(2026, 3, 4, 5, 6, 7)))
        db.session.commit()
    page = client.get("/register/?reference=V-1").get_data(as_text=True)
    assert "1 enrolment." in page and "enrolment(s)" not in page
    assert f">{DEMO_FACE_SET_NAME} (demo)</td>" in page  # a face set by its label, its id after it (item 6)
    assert "Mar 4, 2026, 05:06 UTC" in page  # the default zone is UTC in tests
    with app.test_request_context(headers={"Accept-Language": "id"}):
        assert local_time(datetime(2026, 3, 4, 5, 6, 7)) == "4 Mar 2026 05.06 UTC"  # the same form, in Indonesian


def test_scores_are_shown_as_the_vendor_gives_them(app):
    from facesite.web.i18n import number

    with app.test_request_context():
        assert (number(75.0), number(75.25), number(99.875)) == ("75", "75.25", "99.875")
    # and no template forces a decimal onto a score
    assert not [t for t in (ROOT / "templates").rglob("*.html") if 'score|number("' in t.read_text()]
