"""The face picture field shared by every form that sends one (enrol, search).

A new upload is prepared (see preparation.py; an admin setting) or else checked
against the vendor's rules as it is, then kept in the drafts, so that a form
shown again after an error still has it attached; a form sent again without a
new file uses the kept one. What is kept is what is sent: metadata-free.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import HiddenField
from wtforms.validators import ValidationError

from facesite import runtime_settings
from facesite.access.policy import draft_reader
from facesite.config import settings
from facesite.drafts import drafts, new_id, valid_id
from facesite.faces import catalogue
from facesite.pictures import image_rules, preparation
from facesite.pictures.sending import Picture, picture_to_send
from facesite.pictures.thumbnails import PREVIEW_MIN_SIDE, searchable_side, thumbnail

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

    def start(self, args) -> None:
        """A new form (enrol, search): a fresh submission id, and the face set a link asks for, else the
        person's last one."""
        self.submissionId.data = new_id()
        self.faceSetId.data = catalogue.default_face_set_id(args.get("faceSetId"))

    def checked_picture(self) -> Picture | None:
        """The form as sent: validated (a face set the sandbox made is adopted into the catalogue first),
        and the picture to send; None when the form must be shown again with its errors."""
        catalogue.adopt_from_sandbox(self.faceSetId.data)
        valid = self.validate_on_submit()
        picture = self.attach_picture()  # also when invalid: the picture stays attached to the form shown again
        return picture if valid else None

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


def picture_template_context() -> dict:
    """What a page with the picture field needs: the rules, for the hint and the browser's pre-check."""
    if runtime_settings.prepare_pictures():
        return {"rules": preparation.browser_rules(settings().max_content_length),
                "rules_text": preparation.rules_text()}
    return {"rules": image_rules.browser_rules(), "rules_text": image_rules.rules_text()}
