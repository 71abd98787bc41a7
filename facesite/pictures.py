"""The face picture field shared by every form that sends one (enrol, search).

A new upload is prepared (see preparation.py; an admin setting) or else checked
against the vendor's rules as it is, then kept in the drafts, so that a form
shown again after an error still has it attached; a form sent again without a
new file uses the kept one. What is kept is what is sent: metadata-free.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import HiddenField
from wtforms.validators import ValidationError

from facesite import image_rules, metrics, preparation, runtime_settings
from facesite.access.policy import draft_reader
from facesite.drafts import valid_id
from facesite.extensions import drafts
from facesite.faces.register import thumbnail
from facesite.faces.results import Picture

PICTURE_GONE = _l("The picture from your last attempt has expired: attach it again.")


class PictureFields:
    """Mix into a FlaskForm: ``faceImage`` plus the hidden ``keptPicture``."""

    faceImage = FileField(_l("Face picture"))
    # A picture kept from an earlier attempt, so it need not be uploaded again.
    keptPicture = HiddenField()
    # What preparation did to the kept picture, for the result page.
    preparation = HiddenField()

    picture: Picture | None = None  # a new upload, checked

    def validate_faceImage(self, field):
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            if not valid_id(self.keptPicture.data):
                raise ValidationError(_("Attach a face picture."))
            return
        try:
            self.picture = picture_to_send(upload.read())
            self.preparation.data = self.picture.preparation
        except image_rules.ImageRuleError as error:
            self.keptPicture.data = ""  # a new, refused picture replaces any kept one
            raise ValidationError(str(error)) from None

    def attach_picture(self) -> Picture | None:
        """The picture to send: a new upload, else the kept one; None (with an error on the field)
        when there is neither. A new upload is not kept yet: see ``keep_picture``."""
        if self.faceImage.errors:
            return None
        if self.picture is not None:
            self.keptPicture.data = ""  # the new upload replaces any picture kept before
            return self.picture
        kept = drafts().picture(self.keptPicture.data, draft_reader())  # never someone else's picture
        if kept is None:
            self.keptPicture.data = ""
            self.faceImage.errors = [PICTURE_GONE]
            return None
        return Picture(kept[0], image_rules.check_image(kept[0]), self.preparation.data or "", self.keptPicture.data)

    def keep_picture(self) -> str | None:
        """Keep a new upload for the next attempt (the form is shown again) or for a page that reuses
        it; returns its id. Only then: an enrolment that succeeds at once never writes its picture."""
        if self.picture is not None and not self.keptPicture.data:
            self.keptPicture.data = drafts().keep_picture(self.picture.data, self.picture.facts.extension,
                                                          current_user.username)
        return self.keptPicture.data or None


# A sent picture up to this size is kept as it is for its result page; a larger one as a small copy
# made from the pixels the check already decoded (a 1.3 MB photo written per enrolment filled the
# database and held up every other writer).
PREVIEW_KEEP_BYTES = 320 * 1024
PREVIEW_MIN_SIDE, PREVIEW_SIDE = 240, 480


def keep_preview(picture: Picture) -> str:
    """The id of a kept picture showing what was sent, for the result page (a large picture kept while the
    form was shown again, e.g. to ask about several faces, is previewed from a small copy too)."""
    if picture.kept_id and len(picture.data) <= PREVIEW_KEEP_BYTES:
        return picture.kept_id
    data, extension = picture.data, picture.facts.extension
    if len(data) > PREVIEW_KEEP_BYTES:
        decoded, side = picture.facts.decoded, searchable_side(picture.facts.width, picture.facts.height)
        if decoded is not None and max(decoded.size) >= max(PREVIEW_MIN_SIDE, side):  # no second decode
            # Up to twice that side the check's pixels are kept at their size: bringing a 763 px decode
            # down to 480 cost 5 ms of an enrolment's CPU, and the page scales it anyway.
            data = thumbnail(data, decoded, side=max(decoded.size) if max(decoded.size) <= 2 * side else side)
        else:
            data = thumbnail(data, None, side=side)
        extension = ".jpg"
    return drafts().keep_picture(data, extension, current_user.username)


def searchable_side(width: int, height: int) -> int:
    """The longest side of a preview whose shortest side still meets the vendor's minimum, so that the
    result page's "Search with this face" can send it (PREVIEW_SIDE unless the picture is very long)."""
    longest, shortest = max(width, height), max(1, min(width, height))
    return min(longest, max(PREVIEW_SIDE, -(-image_rules.MIN_SIDE * longest // shortest)))


def picture_to_send(data: bytes) -> Picture:
    """What is sent for an uploaded picture under the admin setting: prepared (and what was done), or
    checked as it is. Raises ImageRuleError. Forms and batch rows alike (so metrics count here)."""
    prepare = runtime_settings.prepare_pictures()
    try:
        if prepare:
            prepared = preparation.prepare(data)
            picture = Picture(prepared.data, prepared.facts, prepared.summary)
        else:
            picture = Picture(data, image_rules.check_image(data))
    except image_rules.ImageRuleError as error:
        metrics.count_picture_refused(error.vendor_message)
        raise
    metrics.count_picture_accepted(prepare)
    return picture


def picture_problem(data: bytes) -> str | None:
    """What ``picture_to_send`` would refuse, found without encoding anything (``preparation.inspect``);
    None when fine. For checking the many pictures of a batch upload (a refusal counts in the metrics
    here: its rows are skipped and never reach ``picture_to_send``)."""
    check = preparation.inspect if runtime_settings.prepare_pictures() else image_rules.check_image
    try:
        check(data)
    except image_rules.ImageRuleError as error:
        metrics.count_picture_refused(error.vendor_message)
        return str(error)
    return None


def picture_template_context() -> dict:
    """What a page with the picture field needs: the rules, for the hint and the browser's pre-check."""
    if runtime_settings.prepare_pictures():
        return {"rules": preparation.browser_rules(current_app.config["MAX_CONTENT_LENGTH"]),
                "rules_text": preparation.rules_text()}
    return {"rules": image_rules.browser_rules(), "rules_text": image_rules.rules_text()}
