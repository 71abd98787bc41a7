"""CSV files that staff download and open in a spreadsheet: streamed, and never able to run a formula.

Every export of the portal goes through ``csv_download``: the register, the audit log and batch
results alike. Rows are written one at a time while the response is being sent, so a large
export never sits whole in memory, and each download is written to the security log.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

from facesite import security_events
from facesite.extensions import db
from facesite.i18n_names import csv_heading

# A spreadsheet treats a cell starting with one of these as a formula (= + - @), or as the start of
# one once the leading tab or carriage return is dropped (Excel, LibreOffice, Google Sheets).
# Full-width forms too: some spreadsheets in East Asian locales read "＝SUM(…)" as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Excel on Windows reads a CSV file as the machine's legacy code page unless it starts with a UTF-8
# byte-order mark: "••••4567", "×" and accented names came out garbled. LibreOffice and Python's
# "utf-8-sig" take the mark in their stride (the batch manifest reader does too).
BYTE_ORDER_MARK = "\ufeff"
# Rows read from the database per round trip while an export streams.
EXPORT_BATCH_ROWS = 500
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_safe(value):
    """One cell as it is written: numbers and dates as they are, ``None`` empty, and any text a
    spreadsheet would run as a formula (a name typed as ``=HYPERLINK(...)``, also behind leading
    spaces) behind an apostrophe, which spreadsheets show as plain text."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal, date, datetime)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The byte-order mark and the header line, then one line per row, each made as it is asked for."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    for values in _with_header(columns, rows):
        writer.writerow([csv_safe(value) for value in values])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _with_header(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterator[Sequence]:
    yield [csv_heading(column) for column in columns]  # in the reader's language
    yield from rows


def record_rows(query, columns: Sequence[str]) -> Iterator[list]:
    """The attributes ``columns`` of each record the query selects, read a batch at a time."""
    for record in db.session.scalars(query.execution_options(yield_per=EXPORT_BATCH_ROWS)):
        yield [getattr(record, column) for column in columns]


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[Sequence], *, export: str) -> Response:
    """A streamed CSV attachment. ``rows`` must be lazy (a generator): it is read while the answer is
    sent, inside the request's context. ``export`` names the export in the security log."""
    security_events.record("csv_export", detail=export)
    safe_name = _UNSAFE_FILENAME.sub("-", filename).strip(".-") or "export.csv"
    return Response(stream_with_context(csv_lines(columns, rows)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{safe_name}"'})
