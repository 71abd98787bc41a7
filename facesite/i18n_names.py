"""The words pages show for the portal's own codes (roles, batch states, security events), in the reader's
language. The codes themselves stay as they are in the database, in CSV files and in JSON; the vendor calls
(token, add_face, search) are the API's steps and are shown as they are."""
from __future__ import annotations

from flask_babel import get_timezone, gettext as _, lazy_gettext as _l, lazy_pgettext as _lp

ROLE_NAMES = {"viewer": _l("viewer"), "operator": _l("operator"), "admin": _l("admin")}
JOB_STATE_NAMES = {"uploading": _l("uploading"), "checking": _l("checking"), "review": _l("review"),
                   "queued": _l("queued"), "running": _l("running"), "paused": _l("paused"),
                   "finished": _l("finished")}
ROW_STATE_NAMES = {"unchecked": _l("unchecked"), "pending": _l("pending"), "sending": _l("sending"),
                   "done": _l("done"), "failed": _l("failed"), "unknown": _l("check"), "skipped": _l("skipped")}
ROW_FILTER_NAMES = {"all": _l("all"), "problems": _l("problems"), "unknown": _l("to check")}
# The security log's events, as its filter offers them (the table shows the code itself).
EVENT_NAMES = {
    "sign_in": _l("sign in"), "sign_in_failed": _l("sign in failed"), "locked_out": _l("locked out"),
    "sign_out": _l("sign out"), "password_changed": _l("password changed"), "session_expired": _l("session expired"),
    "user_created": _l("user created"), "user_changed": _l("user changed"), "role_changed": _l("role changed"),
    "user_disabled": _l("user disabled"), "user_enabled": _l("user enabled"), "user_removed": _l("user removed"),
    "unlocked": _l("unlocked"), "reset_link_made": _l("reset link made"), "password_reset": _l("password reset"),
    "setting_changed": _l("setting changed"), "face_set_changed": _l("face set changed"),
    "csv_export": _l("CSV export"), "access_denied": _l("access denied"),
    "second_factor_on": _l("second factor turned on"), "second_factor_reset": _l("second factor reset"),
    "second_factor_failed": _l("wrong second-factor code"), "recovery_code_used": _l("recovery code used"),
    "recovery_codes_made": _l("new recovery codes made"),
}


def _named(names: dict, code) -> str:
    return str(names.get(str(code), code)) if code is not None else "—"


def role_name(role: str) -> str:
    return _named(ROLE_NAMES, role)


def state_name(state) -> str:
    """A batch job's state as the page shows it (JSON keeps the code)."""
    return _named(JOB_STATE_NAMES, state)


def row_state_name(state) -> str:
    return _named(ROW_STATE_NAMES, state)


def row_filter_name(shown) -> str:
    return str(ROW_FILTER_NAMES.get(str(shown))) if str(shown) in ROW_FILTER_NAMES else row_state_name(shown)


# The manifest's columns (API field names: the CSV's headings stay as they are) in the words of the pages.
COLUMN_WORDS = {"faceSetId": _l("Face set"), "faceImage": _l("Photo"), "externalReferenceId": _l("Reference"),
                "idNumber": _l("ID number"), "idCardType": _l("ID type"), "country": _l("Country"), "name": _l("Name")}


def column_name(column: str) -> str:
    return str(COLUMN_WORDS.get(column, column))


def row_message(message: str | None) -> str:
    """A batch row's problems as stored ("column: what is wrong" a line, written in the uploader's language
    when the row was checked or sent), each line led by its column's words instead of the API's name; a
    problem that is one of the catalogue's own messages is shown in the reader's language."""
    lines = []
    for line in (message or "").split("\n"):
        column, said, rest = line.partition(": ")
        lines.append(f"{column_name(column)}: {_(rest)}" if said and column in COLUMN_WORDS else _(line) if line else "")
    return "\n".join(lines)


def current_timezone() -> str:
    return str(get_timezone())


def template_helpers() -> dict:
    """Jinja globals (so that macros imported without context have them too)."""
    return {"role_name": role_name, "state_name": state_name, "row_state_name": row_state_name,
            "row_filter_name": row_filter_name, "row_message": row_message, "column_name": column_name,
            "current_timezone": current_timezone, "browser_words": browser_words}


def number_text(value, format: str | None = None) -> str:
    """A number as the reader's locale writes it; English grouping outside any request or app (tests, the
    command line), where Flask-Babel knows no locale."""
    from babel.numbers import format_decimal
    from flask_babel import get_locale

    return format_decimal(value, format, locale=get_locale() or "en")


# CSV headings of the exports (register, audit trail, batch results) in the reader's language; in English
# they are the column names as they always were. The vendor's field names (faceImage, faceSetId, ...) are
# an interface and stay as they are: they have no entry here.
CSV_HEADINGS = {
    "id": _lp("CSV heading", "id"), "face_id": _lp("CSV heading", "face_id"),
    "face_set_id": _lp("CSV heading", "face_set_id"),
    "external_reference_id": _lp("CSV heading", "external_reference_id"), "name": _lp("CSV heading", "name"),
    "country": _lp("CSV heading", "country"), "id_card_type": _lp("CSV heading", "id_card_type"),
    "id_number_masked": _lp("CSV heading", "id_number_masked"), "enrolled_by": _lp("CSV heading", "enrolled_by"),
    "enrolled_at": _lp("CSV heading", "enrolled_at"), "transaction_id": _lp("CSV heading", "transaction_id"),
    "started_at": _lp("CSV heading", "started_at"), "finished_at": _lp("CSV heading", "finished_at"),
    "username": _lp("CSV heading", "username"), "call": _lp("CSV heading", "call"),
    "outcome_code": _lp("CSV heading", "outcome_code"), "outcome_message": _lp("CSV heading", "outcome_message"),
    "pricing_strategy": _lp("CSV heading", "pricing_strategy"), "http_status": _lp("CSV heading", "http_status"),
    "latency_ms": _lp("CSV heading", "latency_ms"), "row": _lp("CSV heading", "row"),
    "result": _lp("CSV heading", "result"), "code": _lp("CSV heading", "code"),
    "message": _lp("CSV heading", "message"), "preparation": _lp("CSV heading", "preparation"),
}


def csv_heading(column: str) -> str:
    return str(CSV_HEADINGS[column]) if column in CSV_HEADINGS else column


def browser_words() -> dict:
    """What picture-form.js and batch.js write into the page, in the reader's language: rendered by the
    templates as JSON in a data attribute (``#page-words``), since the scripts hold no words of their own.
    ``{name}`` marks are filled in by the scripts."""
    return {
        "cameraFailed": _("The camera could not be opened ({error}). Choose a file instead."),
        "cameraNotFound": _("No camera was found on this device. Choose a file instead."),
        "cameraDenied": _("Camera permission was denied — allow it in the browser's site settings, then press "
                          "“Use camera” again, or choose a file instead."),
        "cameraBusy": _("The camera is in use by another program. Close that program and press “Use camera” "
                        "again, or choose a file instead."),
        "uploading": _("Uploading…"),
        "uploadingPercent": _("Uploading… {percent} %"),
        "reading": _("Reading the manifest and the ZIP…"),
        "interrupted": _("The upload was interrupted. Check the connection and upload again."),
        "chooseFaceSet": _("Choose the face set to enrol into."),
        "seconds": _("{count} s"), "minutes": _("{count} min"), "hours": _("{hours} h {minutes} min"),
        "rate": _("{rate} rows/s"), "waiting": _("waiting {seconds} s for the vendor"),
        "states": {code: str(name) for code, name in JOB_STATE_NAMES.items()},
    }
