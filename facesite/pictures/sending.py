"""What is sent for an uploaded picture: prepared or checked as it is (an administrators' setting), for the
enrol and search forms and every batch row alike, so the picture metrics are counted in one place."""
from __future__ import annotations

from dataclasses import dataclass

from facesite import metrics, runtime_settings
from facesite.pictures import image_rules, preparation
from facesite.pictures.image_rules import ImageFacts


@dataclass(frozen=True)
class Picture:
    """A picture ready to send: checked (and prepared, when the portal prepares pictures)."""

    data: bytes
    facts: ImageFacts
    preparation: str = ""  # what the portal did to it, in words ("" when sent as uploaded)
    kept_id: str | None = None  # the kept copy the result page previews (drafts.py)

    @property
    def filename(self) -> str:
        return f"face{self.facts.extension}"


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
        metrics.count_picture_refused(error.reason)
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
        metrics.count_picture_refused(error.reason)
        return str(error)
    return None
