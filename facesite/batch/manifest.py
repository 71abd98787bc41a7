"""Reading a batch upload: a ZIP of pictures and a CSV manifest, checked before anything is sent.

The manifest's columns are the API's field names. It may be uploaded beside the
ZIP or lie inside it (one ``.csv`` at the top); without one, every picture in the
ZIP becomes a row named after its file. Every problem is reported with its row
(as a spreadsheet numbers it: the header is row 1) and column, all at once, so
staff fix the file in one go.

Rows are planned from the ZIP's list of files alone, within the limits of limits.py: rows keep
the name of their ZIP member, and no picture is read here. Reading, decoding and copying the
pictures (once per member) is left to the background, after the upload is stored (checking.py).
"""
from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from dataclasses import dataclass, field

from flask_babel import format_date, format_number, gettext as _

from facesite.batch.limits import ManifestError, UploadLimits, check_referenced, clean_name, read_member, size_text
from facesite.extensions import db
from facesite.faces import catalogue, check_person
from facesite.models import Enrolment
from facesite.pictures import preparation

COLUMNS = ("faceSetId", "faceImage", "externalReferenceId", "idNumber", "idCardType", "country", "name")
PICTURE_EXTENSIONS = preparation.INPUT_EXTENSIONS
UNNAMED = "—"  # the "column" of values under no heading

@dataclass
class PlannedRow:
    row_number: int
    fields: dict  # API name -> value (None when empty)
    member: str | None = None  # the ZIP member holding the picture
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, what is wrong)
    cells: dict = field(default_factory=dict)  # the values as uploaded, before the checks (corrections)

    def refuse(self, column: str, message: str) -> None:
        self.problems.append((column, message))


@dataclass
class Plan:
    rows: list[PlannedRow]
    source: str  # where the rows came from, for the review page
    ignored: list[str] = field(default_factory=list)  # files in the ZIP that are not rows

    @property
    def ready(self) -> list[PlannedRow]:
        return [row for row in self.rows if not row.problems]


def plan_upload(archive: zipfile.ZipFile, manifest: bytes | None, default_face_set: str | None,
                limits: UploadLimits) -> Plan:
    """The rows of an upload and what is wrong with each, pictures aside (see ``pictures.picture_problem``).
    Raises ManifestError when nothing can be planned, or the upload is over a limit."""
    members = _members(archive)
    inside = [name for name in members if name.lower().endswith(".csv") and "/" not in name]
    if manifest is None and len(inside) == 1:
        manifest, source = _manifest_inside(archive, members[inside[0]], limits), \
            _("the manifest %(name)s inside the ZIP", name=inside[0])
    elif manifest is not None:
        source = _("the uploaded manifest")
    else:
        source = _("the file names in the ZIP (no manifest)")
    if manifest is None:
        rows, ignored = _rows_from_file_names(members, default_face_set)
    else:
        rows = _rows_from_manifest(manifest, default_face_set, limits.rows)
        used = {row.fields.get("faceImage") for row in rows}
        ignored = [name for name in members if name not in inside and name not in used]
    if not rows:
        raise ManifestError(_("There is nothing to enrol: the manifest has no rows and the ZIP no pictures."))
    return _checked(rows, members, source, ignored, limits)


def replan(archive: zipfile.ZipFile, rows: list[PlannedRow], limits: UploadLimits) -> Plan:
    """The same checks again on rows corrected on the review page (``cells`` as corrected), against the
    ZIP kept for the job under review."""
    for row in rows:
        row.fields = {name: value for name, value in row.cells.items() if name != UNNAMED}
        row.problems, row.member = [], None
        if row.cells.get(UNNAMED):
            row.refuse(UNNAMED, _("this row has a value in a column without a name in the first row"))
    return _checked(rows, _members(archive), _("your corrections"), [], limits)


def _checked(rows: list[PlannedRow], members: dict, source: str, ignored: list[str], limits: UploadLimits) -> Plan:
    if len(rows) > limits.rows:
        raise _too_many_rows(limits.rows)
    for row in rows:
        row.cells = row.cells or {name: value for name, value in row.fields.items() if value}
    _check_rows(rows, members, limits.picture_bytes)
    check_referenced([members[name] for name in {row.member for row in rows if row.member}], limits)
    _check_register(rows)
    return Plan(rows, source, ignored)


def _manifest_inside(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: UploadLimits) -> bytes:
    if info.file_size > limits.manifest_bytes:
        raise ManifestError(_("%(name)s inside the ZIP is larger than %(size)s, the most a batch manifest may be "
                              "(BATCH_MAX_MANIFEST_MB): split the upload.", name=info.filename,
                              size=size_text(limits.manifest_bytes)))
    try:
        return read_member(archive, info.filename, limits.manifest_bytes, "BATCH_MAX_MANIFEST_MB")
    except ManifestError as error:
        raise ManifestError(_("%(name)s inside the ZIP %(problem)s.", name=info.filename, problem=error)) from None


def _too_many_rows(max_rows: int) -> ManifestError:
    return ManifestError(_("The upload has more than %(rows)s rows, the most one batch may hold (BATCH_MAX_ROWS): "
                           "split the upload.", rows=format_number(max_rows)))


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Files in the ZIP by name, without folders and the hidden files some systems add."""
    found = {}
    for info in archive.infolist():
        name = clean_name(info.filename)
        base = posixpath.basename(name)
        if info.is_dir() or name.startswith("__MACOSX/") or base.startswith(".") or not base:
            continue
        found[name] = info
    return found


def _rows_from_file_names(members: dict, default_face_set: str | None) -> tuple[list[PlannedRow], list[str]]:
    rows, ignored = [], []
    for name in sorted(members):
        if not name.lower().endswith(PICTURE_EXTENSIONS):
            ignored.append(name)
            continue
        stem = posixpath.splitext(posixpath.basename(name))[0]
        rows.append(PlannedRow(len(rows) + 1, {"faceSetId": default_face_set, "faceImage": name, "name": stem}))
    return rows, ignored


def _decode(manifest: bytes) -> str:
    try:
        return manifest.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        raise ManifestError(_("The manifest is not UTF-8 text. In Excel choose “CSV UTF-8” when saving; "
                              "in LibreOffice tick “Edit filter settings” and pick UTF-8.")) from None


def _rows_from_manifest(manifest: bytes, default_face_set: str | None, max_rows: int) -> list[PlannedRow]:
    text = _decode(manifest)
    try:  # spreadsheets in many languages separate with ";" (their decimal mark is the comma)
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0][:10_000], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    records = _records(csv.reader(io.StringIO(text), delimiter=dialect.delimiter))
    header = next(records, None)
    if not header or not any(cell.strip() for cell in header):
        raise ManifestError(_("The manifest is empty: its first row must name the columns, e.g. %(columns)s",
                              columns=",".join(COLUMNS)))
    columns = _header(header, default_face_set)
    rows = []
    for index, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(rows) == max_rows:  # stop reading: one row too many is enough to refuse
            raise _too_many_rows(max_rows)
        cells = [cell.strip() for cell in record] + [""] * (len(columns) - len(record))
        values = {name: cells[i] or None for i, name in enumerate(columns) if name}
        values["faceSetId"] = values.get("faceSetId") or default_face_set
        row = PlannedRow(index, values)
        unnamed = [cells[i] for i, name in enumerate(columns) if not name and cells[i]] + \
            [cell for cell in cells[len(columns):] if cell]
        if unnamed:
            row.refuse(UNNAMED, _("this row has a value in a column without a name in the first row"))
            row.cells = {name: value for name, value in values.items() if value} | {UNNAMED: " ".join(unnamed)}
        rows.append(row)
    return rows


def _records(reader):
    try:
        yield from reader
    except csv.Error as error:  # a NUL byte, a cell of megabytes: not a manifest a spreadsheet wrote
        raise ManifestError(_("The manifest could not be read as CSV (%(error)s). Save it again as CSV from "
                              "the spreadsheet.", error=error)) from None


def _header(cells: list[str], default_face_set: str | None) -> list[str | None]:
    by_lower = {name.lower(): name for name in COLUMNS}
    columns, problems = [], []
    for cell in cells:
        if not cell.strip():  # spreadsheets often save empty columns after the last used one
            columns.append(None)
            continue
        name = by_lower.get(cell.strip().lower())
        if name is None:
            problems.append(_("unknown column “%(name)s”", name=cell.strip()))
        elif name in columns:
            problems.append(_("the column %(name)s appears twice", name=name))
        columns.append(name or cell.strip())
    if "faceImage" not in columns:
        problems.append(_("the column faceImage (the picture's file name inside the ZIP) is missing"))
    if "faceSetId" not in columns and not default_face_set:
        problems.append(_("there is no faceSetId column: add one, or choose a face set on the form"))
    if problems:
        raise ManifestError(_("The manifest's first row is not right: %(problems)s. The columns are: %(columns)s "
                              "(download the template).", problems="; ".join(problems), columns=", ".join(COLUMNS)))
    return columns


def _check_rows(rows: list[PlannedRow], members: dict, max_picture_bytes: int) -> None:
    by_base = {}
    for name in members:
        by_base.setdefault(posixpath.basename(name).lower(), []).append(name)
    seen_references: dict[tuple, int] = {}
    face_sets: dict[str, str | None] = {}
    for row in rows:
        values = row.fields
        wanted = values.get("faceSetId")
        if wanted not in face_sets:
            entry = (catalogue.resolve(wanted) or catalogue.adopt_from_sandbox(wanted)) if wanted else None
            face_sets[wanted] = entry.id if entry else None
        if not wanted:
            row.refuse("faceSetId", _("empty: fill it in, or choose a face set on the form"))
        elif face_sets[wanted] is None:
            row.refuse("faceSetId", catalogue.not_in_catalogue(wanted))
        else:
            values["faceSetId"] = face_sets[wanted]
        person, problems = check_person(values)  # the enrol form's rules
        values.update(person.api_fields())
        for name, problem in problems.items():
            row.refuse(name, problem)
        reference = values.get("externalReferenceId")
        if reference:
            key = (values.get("faceSetId"), reference)
            if key in seen_references:
                row.refuse("externalReferenceId", _("“%(reference)s” is also on row %(row)s", reference=reference,
                                                     row=seen_references[key]))
            seen_references.setdefault(key, row.row_number)
        row.member = _find_member(values.get("faceImage"), members, by_base, row)
        if row.member and members[row.member].file_size > max_picture_bytes:
            row.refuse("faceImage", _("%(size)s is larger than a batch photo may be (%(limit)s, BATCH_MAX_PICTURE_MB)",
                                      size=size_text(members[row.member].file_size), limit=size_text(max_picture_bytes)))


def _find_member(wanted: str | None, members: dict, by_base: dict, row: PlannedRow) -> str | None:
    if not wanted:
        row.refuse("faceImage", _("empty: give the picture's file name inside the ZIP"))
        return None
    wanted = clean_name(wanted)
    if wanted in members:
        return wanted
    candidates = by_base.get(posixpath.basename(wanted).lower(), [])
    if len(candidates) == 1:  # a folder in the ZIP, or other capitals, but only one such file
        return candidates[0]
    if candidates:
        row.refuse("faceImage", _("“%(name)s” matches several files: %(files)s", name=wanted,
                                  files=", ".join(sorted(candidates))))
    else:
        row.refuse("faceImage", _("there is no file “%(name)s” in the ZIP", name=wanted))
    return None


def _check_register(rows: list[PlannedRow]) -> None:
    """A reference already in the register of that face set: sending it again would enrol the person twice."""
    wanted = {(row.fields["faceSetId"], row.fields["externalReferenceId"]): row for row in rows
              if row.fields.get("externalReferenceId") and row.fields.get("faceSetId")}
    references = sorted({reference for _face_set, reference in wanted})
    for start in range(0, len(references), 500):
        query = db.select(Enrolment).where(Enrolment.external_reference_id.in_(references[start:start + 500]))
        for entry in db.session.scalars(query):
            row = wanted.get((entry.face_set_id, entry.external_reference_id))
            if row is not None:
                row.refuse("externalReferenceId", _("“%(reference)s” is already enrolled in this face set (face %(face)s, "
                                                    "%(date)s)", reference=entry.external_reference_id,
                                                    face=entry.face_id, date=format_date(entry.enrolled_at)))
