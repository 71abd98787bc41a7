"""The languages the portal speaks and the checks on its two language settings. No Flask here: config.py
reads these while the environment is parsed, before any app exists."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Locale code -> the language's name in itself (what the picker shows: a clerk looks for their own word).
# Spanish is Mexico's: its dates and numbers follow es_MX.
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia", "th": "ไทย", "vi": "Tiếng Việt",
             "es_MX": "Español (México)", "ms": "Bahasa Melayu"}


def known_locale(value: str | None) -> str | None:
    """One of LANGUAGES for a code as people write it (``es-MX``, ``es``, ``TH``); None otherwise."""
    if not value:
        return None
    value = value.strip().replace("-", "_").lower()
    exact = {code.lower(): code for code in LANGUAGES}
    by_language = {code.split("_")[0].lower(): code for code in LANGUAGES}  # th_TH -> th, es -> es_MX
    return exact.get(value) or by_language.get(value.split("_")[0])


@functools.cache
def system_timezones() -> frozenset[str]:
    """The IANA names this system knows (read from disk: 30 ms, so once per process)."""
    return frozenset(available_timezones())


def known_timezone(value: str | None) -> str | None:
    """An IANA time zone name the system knows (``Asia/Jakarta``); None otherwise."""
    if not value or len(value) > 64 or value not in system_timezones():
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def default_locale(env: Mapping[str, str]) -> str:
    value = env.get("DEFAULT_LOCALE", "en")
    code = known_locale(value)
    if code is None:
        raise RuntimeError(f"DEFAULT_LOCALE={value!r} is not a language the portal speaks; "
                           f"use one of {', '.join(LANGUAGES)}")
    return code


def default_timezone(env: Mapping[str, str]) -> str:
    value = env.get("DEFAULT_TIMEZONE", "UTC").strip()
    if known_timezone(value) is None:
        raise RuntimeError(f"DEFAULT_TIMEZONE={value!r} is not a time zone name this system knows; "
                           "use an IANA name such as UTC or Asia/Jakarta")
    return value
