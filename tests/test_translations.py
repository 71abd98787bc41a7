"""Every message the portal shows is in every catalogue, translated, not fuzzy, with the same placeholders;
the compiled catalogues are those of the .po files; and the locale and time zone are chosen as the README
says (the person's setting, the picker's cookie, Accept-Language, DEFAULT_LOCALE)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from facesite.config import Settings
from facesite.i18n_settings import LANGUAGES
from tests.support import sign_in

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "facesite" / "translations"
TRANSLATED = [code for code in LANGUAGES if code != "en"]  # English is the messages' own language
# The portal's aliases for lazy_gettext and lazy_pgettext, as README's pybabel extract command names them.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_lp": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def extracted() -> dict:
    """(context, msgid) -> msgid as pybabel extract finds them in the code, with babel.cfg's mapping."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                       keywords=KEYWORDS):
        found[(context, message)] = message
    return found


def placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in PLACEHOLDER.findall(text))


def catalogue(code: str):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=code)


@pytest.fixture(scope="module")
def messages():
    return extracted()


def test_extraction_finds_the_portals_messages(messages):
    ids = {m if isinstance(m, str) else m[0] for _c, m in messages}
    assert {"Enrol a face", "The vendor refused the request.", "Attach a face picture."} <= ids
    assert len(messages) > 400
    # The vendor's own words are never messages: they are shown as the vendor wrote them.
    assert not ids & {"File should be an image file, like jpg, png, jpeg.", "No face detected"}


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_in_every_language(messages, code):
    entries = {(m.context, m.id): m for m in catalogue(code) if m.id}
    missing = [key for key in messages if key not in entries]
    left_over = [key for key in entries if key not in messages]
    untranslated = [key for key, m in entries.items() if not all(m.string if isinstance(m.string, tuple)
                                                                 else [m.string])]
    fuzzy = [key for key, m in entries.items() if m.fuzzy]
    assert not missing, f"{code}: not in the catalogue (pybabel update): {missing[:10]}"
    assert not left_over, f"{code}: no longer in the code (pybabel update drops them): {left_over[:10]}"
    assert not untranslated, f"{code}: untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{code}: fuzzy: {fuzzy[:10]}"
    assert not catalogue(code).fuzzy, f"{code}: the catalogue's header is marked fuzzy"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_message(code):
    wrong = []
    for m in catalogue(code):
        if not m.id:
            continue
        if isinstance(m.id, tuple):  # plural forms: %(num)s may be left out of a form that says "one"
            wanted = set(placeholders(m.id[1])) - {"num"}
            wrong += [(m.id, form) for form in m.string if set(placeholders(form)) - {"num"} != wanted]
        elif placeholders(m.string) != placeholders(m.id):
            wrong.append((m.id, m.string))
    assert not wrong, f"{code}: placeholders differ: {wrong[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_is_the_po_files(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = {(m.context, as_key(m.id)): as_key(m.string) for m in read_mo(mo) if m.id}
    source = {(m.context, as_key(m.id)): as_key(m.string) for m in catalogue(code) if m.id}
    assert compiled == source, f"{code}: run pybabel compile -d facesite/translations"


def as_key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def page_language(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_the_browser_language_is_used_until_someone_chooses(app):
    visitor = app.test_client()
    for header, expected in (("th-TH,th;q=0.9,en;q=0.5", "th"), ("es-MX,es;q=0.9", "es-MX"), ("es", "es-MX"),
                             ("ms", "ms"), ("fr-FR,fr", "en"), ("", "en")):
        page = visitor.get("/auth/login", headers={"Accept-Language": header}).get_data(as_text=True)
        assert page_language(page) == expected, header
    assert "Sign in" in page


def test_the_picker_remembers_a_choice_before_and_after_sign_in(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True)).group(1)
    answer = client.post("/language", data={"csrf_token": token, "locale": "vi", "next": "/auth/login"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/auth/login"
    page = client.get("/auth/login", headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert page_language(page) == "vi" and "Đăng nhập" in page
    sign_in(client, "operator")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/enrol/").get_data(as_text=True)).group(1)
    client.post("/language", data={"csrf_token": token, "locale": "ms", "next": "//evil.example/"})
    other_browser = sign_in(app.test_client(), "operator")  # the account keeps it, not just this cookie
    assert "Daftar wajah" in other_browser.get("/enrol/").get_data(as_text=True)


def test_the_picker_refuses_a_post_without_its_token_and_sends_nobody_elsewhere(app):
    client = app.test_client()
    assert client.post("/language", data={"locale": "th"}).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True)).group(1)
    answer = client.post("/language", data={"csrf_token": token, "locale": "xx", "next": "https://evil.example/"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert page_language(client.get("/auth/login").get_data(as_text=True)) == "en"


def test_times_are_shown_in_the_persons_time_zone_and_language(app):
    from facesite.extensions import db
    from facesite.models import User

    admin = sign_in(app.test_client(), "admin")
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(role="admin"))
        user.locale, user.timezone, created, user_id = "id", "Asia/Jakarta", user.created_at, user.id
        db.session.commit()
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    jakarta = created.hour + 7  # UTC+7 all year round
    assert f"{jakarta % 24:02d}.{created.minute:02d}" in page, "Babel writes Indonesian times as 14.05"
    assert "Dibuat" in page


def test_a_default_time_zone_or_language_the_system_does_not_know_stops_the_portal():
    with pytest.raises(RuntimeError, match="DEFAULT_TIMEZONE"):
        Settings.from_env({"DEFAULT_TIMEZONE": "Asia/Atlantis"})
    with pytest.raises(RuntimeError, match="DEFAULT_LOCALE"):
        Settings.from_env({"DEFAULT_LOCALE": "xx"})
    settings = Settings.from_env({"DEFAULT_TIMEZONE": "Asia/Bangkok", "DEFAULT_LOCALE": "th-TH"})
    assert (settings.babel_default_timezone, settings.babel_default_locale) == ("Asia/Bangkok", "th")


# The glossary's term (docs/glossary.md) -> a message that must use it in every language.
GLOSSARY_USES = {"face set": "Face set", "enrol (a face)": "Enrol a face", "search": "Search a face",
                 "minimum score": "Minimum score", "score": "Minimum score",
                 "register (of enrolments)": "Register of enrolments", "batch": "Batch enrolment",
                 "charged / not charged": "(charged)"}


def glossary() -> dict[str, dict[str, str]]:
    """term -> language -> the glossary's chosen word (its first wording, without parts in brackets)."""
    rows = [line.strip().strip("|").split("|") for line in (ROOT / "docs" / "glossary.md").read_text().splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    languages = [re.search(r"`([^`]+)`", cell).group(1) for cell in rows[0][1:]]
    words = {}
    for cells in rows[1:]:
        chosen = [re.sub(r"\([^)]*\)", "", re.split(r"[;/]", cell)[0]).strip().lower() for cell in cells[1:]]
        words[cells[0].strip()] = dict(zip(languages, chosen))
    return words


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_glossarys_words_are_the_ones_the_pages_use(code):
    terms = glossary()
    assert set(GLOSSARY_USES) <= set(terms), "docs/glossary.md lost a term"
    translations = {m.id: m.string for m in catalogue(code) if m.id and not m.context}
    for term, message in GLOSSARY_USES.items():
        assert terms[term][code] in translations[message].lower(), (term, message, translations[message])


def test_staff_set_their_own_language_and_time_zone_on_the_preferences_page(app):
    viewer = sign_in(app.test_client(), "viewer")
    html = viewer.get("/preferences").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    refused = viewer.post("/preferences", data={"csrf_token": token, "locale": "th", "timezone": "Mars/Olympus"})
    assert refused.status_code == 200 and page_language(refused.get_data(as_text=True)) == "en"
    saved = viewer.post("/preferences", data={"csrf_token": token, "locale": "th", "timezone": "Asia/Bangkok"})
    assert saved.status_code == 303
    page = viewer.get("/preferences").get_data(as_text=True)
    assert page_language(page) == "th" and "ภาษาและเขตเวลา" in page
    assert '<option selected value="Asia/Bangkok">' in page
    assert "เวลาอินโดจีน" in page  # "Indochina Time": the time now, in Thai, in the zone chosen
