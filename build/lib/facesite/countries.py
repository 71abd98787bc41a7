"""ISO 3166-1 alpha-2 countries, from pycountry (kept up to date by its maintainers)."""
from __future__ import annotations

from functools import cache

import pycountry
from markupsafe import Markup


@cache
def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name, for the country picker."""
    return sorted(((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries),
                  key=lambda pair: pair[1])


@cache
def country_options_html() -> Markup:
    """The picker's <option> list, built once: rendering 249 options on every page view
    was the largest cost of showing the enrol form."""
    return Markup("").join(Markup('<option value="{}">{}</option>').format(code, name)
                           for code, name in country_choices())


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
    country = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(country, "common_name", None) or getattr(country, "name", "") if country else ""
