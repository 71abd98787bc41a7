"""Plain words for staff about a vendor call that did not succeed.

Decisions branch on the vendor's ``code`` (its messages may change without
notice). The message is always shown as the vendor wrote it; a few known
messages add a more specific hint, with the code's advice as the fallback.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l

from facesite import request_ids
from facesite.advance import AdvanceError, TransportError, TransportFailure, VendorError
from facesite.pictures import image_rules

ADMIN = _l("This is not something you can fix from this form: tell the portal's administrator.")

# code -> (what happened, what to do, HTTP status of the page); lazy: put in words for each reader.
# Advice ending in ADMIN gets that sentence added (``_vendor_problem``).
VENDOR_CODES = {
    "PARAMETER_ERROR": (_l("The vendor refused the request."),
                        _l("Check the highlighted details and the picture, then send again."), 422),
    "EMPTY_PARAMETER_ERROR": (_l("The vendor says a required field was empty."),
                              _l("Fill in the face set and attach a picture, then send again."), 422),
    "ERROR": (_l("The vendor had an internal error."),
              _l("Wait a minute and send again. If it keeps happening, give the vendor the transaction id below."), 502),
    "IAM_FAILED": (_l("The vendor refused the portal's credentials."),
                   (_l("The access key or token is wrong, expired, disabled or not allowed in this region."), ADMIN), 502),
    "ACCOUNT_DISABLED": (_l("The vendor account is disabled."), ADMIN, 502),
    "INSUFFICIENT_BALANCE": (_l("The vendor account has run out of balance."),
                             (_l("Nothing was charged. The account needs a top-up."), ADMIN), 502),
    "SERVICE_BUSY": (_l("The vendor is busy (rate limit reached)."),
                     _l("Nothing was done. Wait and send again."), 503),
    "RETRY_LATER": (_l("The vendor asked to retry later."), _l("Nothing was done. Wait and send again."), 503),
    "OVER_QUERY_LIMIT": (_l("The account's query quota is used up."),
                         (_l("Nothing was done. The quota must be raised."), ADMIN), 503),
    "CLIENT_ERROR": (_l("The vendor could not understand the portal's request."), ADMIN, 502),
}

# part of the vendor's message (its exact words, never translated) -> (hint, the form field it is about)
MESSAGE_HINTS = {
    "FaceSet not found": (_l("The vendor has no face set with that id. Check the face set id (ids are "
                             "case-sensitive)."), "faceSetId"),
    "No face detected": (_l("Use a photo where the face is clearly visible: facing the camera, well lit, "
                            "not too small."), "faceImage"),
    image_rules.MSG_NOT_IMAGE: (_l("Attach a PNG or JPEG picture. Rules: %(rules)s"), "faceImage"),
    image_rules.MSG_TOO_LARGE: (_l("Attach a smaller picture. Rules: %(rules)s"), "faceImage"),
    image_rules.MSG_RESOLUTION: (_l("Attach a picture of the right size. Rules: %(rules)s"), "faceImage"),
    "illegal parameters": (_l("One of the details has a value the vendor does not accept: check the country code "
                              "and the length of each field."), None),
}

# part of the vendor's message -> what happened, in plain words, instead of the code's general title
# (the vendor's "Failed to embed image: No face detected" is still shown beside it, as it came).
MESSAGE_TITLES = {
    "No face detected": _l("No face was found in the picture."),
}


def words(advice) -> str:
    """Advice as the reader's words: one sentence, or several (a tuple) joined."""
    return " ".join(str(part) for part in advice) if isinstance(advice, tuple) else str(advice)


def unsure(reference: str | None) -> str:
    """After a failure that may have come after the vendor got the request: look before sending again."""
    return _("The vendor may have received the request before the failure, so the face may have been added. "
             "Before sending again, search the face set for this person (reference %(reference)s).",
             reference=reference or "—")


@dataclass
class Problem:
    title: str
    advice: str
    status: int
    code: str | None = None
    message: str | None = None
    transaction_id: str | None = None
    retry_after: int | None = None
    maybe_done: bool = False
    field: str | None = None  # the form field the problem is about, if any
    # The request that met the problem (request_ids.py): shown with it even when the outcome is shown
    # again to a later request (a form sent twice), so it still leads to that call's log lines.
    request_id: str | None = dataclasses.field(default_factory=request_ids.current)

    def mark(self, form) -> None:
        """Show the vendor's message under the form field it is about, too."""
        if self.field and hasattr(form, self.field):
            field = getattr(form, self.field)
            field.errors = list(field.errors) + [self.message]


def explain(error: AdvanceError, reference: str | None = None) -> Problem:
    if isinstance(error, VendorError):
        return _vendor_problem(error)
    return _transport_problem(error, reference)


def _vendor_problem(error: VendorError) -> Problem:
    answer = error.response
    title, advice, status = VENDOR_CODES.get(
        answer.code, (_l("The vendor answered with an error."), _l("Read the vendor's message below."), 502))
    title, advice = str(title), words(advice)
    field = None
    for needle, (hint, hint_field) in MESSAGE_HINTS.items():
        if needle in (answer.message or ""):
            advice, field = str(hint) % {"rules": image_rules.rules_text()}, hint_field
            title = str(MESSAGE_TITLES.get(needle, title))
            break
    if error.step == "token":
        title = _("The portal could not sign in to the vendor.")
        advice = words((_("The vendor refused the portal's access key or its clock differs from the vendor's."),
                        ADMIN))
        status = 502
    if answer.retry_after is not None:
        advice += " " + _("Try again in %(seconds)s seconds.", seconds=answer.retry_after)
    return Problem(title, advice, status, code=answer.code, message=answer.message,
                   transaction_id=answer.transaction_id, retry_after=answer.retry_after, field=field)


def _transport_problem(error: TransportError, reference: str | None) -> Problem:
    titles = {
        TransportFailure.TIMEOUT: (_("The vendor did not answer in time."), 504),
        TransportFailure.CONNECTION: (_("The portal could not reach the vendor.") if not error.may_have_reached
                                      else _("The connection to the vendor broke."), 502),
        TransportFailure.HTTP_STATUS: (_("The vendor's gateway answered with an error (%(detail)s).",
                                         detail=error.detail), 502),
        TransportFailure.RATE_LIMITED: (_("The vendor is busy (rate limit reached)."), 503),
        TransportFailure.NOT_JSON: (_("The vendor's answer could not be read."), 502),
        TransportFailure.REDIRECT: (words((_("The vendor's address answered with a redirect (%(detail)s).",
                                             detail=error.detail), ADMIN)), 502),
    }
    title, status = titles.get(error.kind, (_("The call to the vendor failed."), 502))
    if error.may_have_reached and error.step == "add_face":
        advice = unsure(reference)
    elif error.may_have_reached:
        advice = _("Send again in a minute; if it keeps happening, tell the portal's administrator.")
    else:
        advice = _("Nothing reached the vendor, so nothing was done. Send again in a minute.")
    if error.retry_after is not None:
        advice += " " + _("The vendor asked to wait %(seconds)s seconds.", seconds=error.retry_after)
    return Problem(title, advice, status, retry_after=error.retry_after, maybe_done=error.may_have_reached)
