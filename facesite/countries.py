"""ISO 3166-1 alpha-2 countries, from pycountry (kept up to date by its maintainers), named in the reader's
language from the ISO 3166 translations pycountry ships."""
from __future__ import annotations

import gettext
from functools import cache

import pycountry
from babel import Locale
from flask_babel import get_locale
from markupsafe import Markup


@cache
def _names_in(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _reader_language() -> str:
    locale = get_locale()
    return str(locale) if isinstance(locale, Locale) else "en"


def _local_name(country, language: str) -> str:
    """The short name staff know (pycountry's common_name, e.g. Taiwan) where it is translated, else the
    official one translated, else the English short name."""
    names = _names_in(language)
    common = getattr(country, "common_name", None)
    if common and names.gettext(common) != common:
        return names.gettext(common)
    translated = names.gettext(country.name)
    return translated if translated != country.name else common or country.name


@cache
def _choices_in(language: str) -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, _local_name(c, language)) for c in pycountry.countries), key=lambda pair: pair[1])


def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in the reader's language, for the country picker."""
    return _choices_in(_reader_language())


@cache
def _options_in(language: str) -> Markup:
    return Markup("").join(Markup('<option value="{}">{}</option>').format(code, name)
                           for code, name in _choices_in(language))


def country_options_html() -> Markup:
    """The picker's <option> list, built once per language: rendering 249 options on every page view
    was the largest cost of showing the enrol form."""
    return _options_in(_reader_language())


def country_code(value: str) -> str | None:
    """The alpha-2 code for a code or a country's name as staff may type it; None if unknown."""
    value = value.strip()
    if len(value) == 2:
        country = pycountry.countries.get(alpha_2=value.upper())
        return country.alpha_2 if country else None
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def country_name(code: str | None) -> str:
    """The country's name in the reader's language ("" for no or an unknown code)."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    return _local_name(country, _reader_language()) if country else ""
