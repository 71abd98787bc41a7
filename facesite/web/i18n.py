"""Staff in their own language and time zone (Flask-Babel): which locale and time zone a request is served
in, the language picker and the preferences page, and the template filters that show times and numbers.

Locale: the signed-in person's own setting, else the picker's cookie (before sign-in), else the best match
of the browser's Accept-Language among LANGUAGES, else DEFAULT_LOCALE. Time zone: the person's setting,
else DEFAULT_TIMEZONE. The database keeps every time in UTC, without a zone; only display converts.
"""
from __future__ import annotations

import functools
from datetime import datetime, timezone
from pathlib import Path

from babel import Locale
from flask import Blueprint, Flask, has_request_context, redirect, render_template, request, url_for
from flask_babel import Babel, format_datetime, format_decimal, get_locale, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from facesite.access.sign_on import safe_next
from facesite.config import settings
from facesite.extensions import db
from facesite.i18n_names import template_helpers
from facesite.i18n_settings import LANGUAGES, known_locale, known_timezone, system_timezones

TRANSLATIONS = str(Path(__file__).resolve().parents[1] / "translations")  # facesite/translations
LOCALE_COOKIE = "facesite_locale"
LOCALE_COOKIE_DAYS = 365

bp = Blueprint("i18n", __name__)
babel = Babel()


def select_locale() -> str:
    if not has_request_context():  # a batch job's thread: its own locale is forced (batch/runner.py)
        return settings().babel_default_locale
    if current_user and current_user.is_authenticated and known_locale(current_user.locale):
        return known_locale(current_user.locale)
    chosen = known_locale(request.cookies.get(LOCALE_COOKIE))
    if chosen:
        return chosen
    # Werkzeug matches a plain "es" or "th-TH" to the offers by their primary language too.
    offers = [code.replace("_", "-") for code in LANGUAGES]
    best = request.accept_languages.best_match(offers)
    return known_locale(best) or settings().babel_default_locale


def select_timezone() -> str:
    if not has_request_context():
        return settings().babel_default_timezone
    if current_user and current_user.is_authenticated and known_timezone(current_user.timezone):
        return current_user.timezone
    return settings().babel_default_timezone


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["number"] = number
    app.register_blueprint(bp)

    app.jinja_env.globals.update(template_helpers())

    @app.context_processor
    def language_picker():
        return {"languages": LANGUAGES, "locale_tag": str(get_locale()).replace("_", "-"),
                "language_form": LanguageForm(formdata=None, locale=str(get_locale()))}


@functools.cache
def time_pattern(locale: str) -> str:
    """Every time on every page in one form: the locale's medium date, its 24-hour time and the zone
    ("Nov 27, 2026, 14:05 UTC"; "27 Nov 2026 21.05 WIB" in Bahasa Indonesia). Staff compare times
    across pages and with colleagues in other branches: no 12-hour clock, no seconds, always a zone."""
    known = Locale.parse(locale)
    date = known.date_formats["medium"].pattern
    time = known.datetime_skeletons["Hm"].pattern + " zzz"
    return known.datetime_formats["medium"].replace("{1}", date).replace("{0}", time)


def local_time(value) -> str:
    """A time from the database (naive UTC) or the vendor (ISO 8601 text) in the reader's time zone and
    locale, in ``time_pattern``; anything unreadable is shown as it came."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return format_datetime(value, time_pattern(str(get_locale() or "en")))


def number(value, format: str | None = None) -> str:
    """A number the way the reader's locale writes it (1.234,5 in Bahasa Indonesia, 1,234.5 in Thai)."""
    return "—" if value is None else format_decimal(value, format)


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


def timezone_choices() -> list[tuple[str, str]]:
    return [SelectChoice("", _l("The portal's default"))] + [
        SelectChoice(name, name.replace("_", " ")) for name in sorted(system_timezones())
        if "/" in name or name == "UTC"]


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    timezone = SelectField(_l("Time zone"), choices=[])
    submit = SubmitField(_l("Save"))


@bp.post("/language")
def choose_language():
    """The picker on every page: kept on the account when signed in, in a cookie either way (so the sign-in
    page keeps it too), then back where the picker was."""
    form = LanguageForm()
    chosen = known_locale(form.locale.data) or settings().babel_default_locale
    if current_user.is_authenticated:
        current_user.locale = chosen
        db.session.commit()
    response = redirect(safe_next(form.next.data) or url_for("main.index"), 303)
    response.set_cookie(LOCALE_COOKIE, chosen, max_age=LOCALE_COOKIE_DAYS * 86400, httponly=True,
                        secure=settings().session_cookie_secure,
                        samesite=settings().session_cookie_samesite)
    return response


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    """One's own language and time zone."""
    form = PreferencesForm(locale=str(get_locale()), timezone=current_user.timezone or "")
    form.timezone.choices = timezone_choices()
    if form.validate_on_submit():
        current_user.locale = known_locale(form.locale.data)
        current_user.timezone = known_timezone(form.timezone.data)
        db.session.commit()
        return redirect(url_for("i18n.preferences"), 303)
    return render_template("preferences.html", form=form, default_timezone=settings().babel_default_timezone,
                           now=format_datetime(datetime.now(timezone.utc), "full"))
