"""What one batch upload may cost the portal, checked before anything is stored.

Every figure here comes from the ZIP's own records (its end record, then its list of files) or
from a read that stops at the limit, so a hostile upload is refused for the price of reading its
list: a ZIP of a few KB that would unpack to gigabytes, or that lists hundreds of thousands of
files, never gets further. Each refusal names the setting that sets its limit.
"""
from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass

from flask_babel import gettext as _

from facesite.batch import archive as stored
from facesite.config import Settings
from facesite.i18n_names import number_text

MB = 1024 * 1024


class ManifestError(ValueError):
    """The upload as a whole cannot be used (not a ZIP, no faceImage column, over a limit, ...)."""


@dataclass(frozen=True)
class UploadLimits:
    rows: int
    members: int
    uncompressed_bytes: int
    compression_ratio: float
    picture_bytes: int
    manifest_bytes: int
    quota_bytes: int

    @classmethod
    def from_settings(cls, portal: Settings) -> UploadLimits:
        return cls(rows=portal.batch_max_rows, members=portal.batch_max_zip_members,
                   uncompressed_bytes=int(portal.batch_max_uncompressed_mb * MB),
                   compression_ratio=portal.batch_max_compression_ratio,
                   picture_bytes=int(portal.batch_max_picture_mb * MB),
                   manifest_bytes=int(portal.batch_max_manifest_mb * MB),
                   quota_bytes=int(portal.batch_quota_mb * MB))


def size_text(size: int) -> str:
    if size < MB / 10:
        return _("%(count)s bytes", count=number_text(size))
    return _("%(size)s MB", size=number_text(size / MB, "#,##0.0" if size >= 10 * MB else "#,##0.00"))


def read_manifest(upload, limits: UploadLimits) -> bytes | None:
    """The manifest uploaded beside the ZIP, read no further than its limit allows."""
    if not upload or not upload.filename:
        return None
    data = upload.stream.read(limits.manifest_bytes + 1)
    if len(data) > limits.manifest_bytes:
        raise ManifestError(_("The manifest is larger than %(size)s, the most a batch manifest may be "
                              "(BATCH_MAX_MANIFEST_MB): split the upload.", size=size_text(limits.manifest_bytes)))
    return data


def check_quota(stream, waiting_bytes: int, limits: UploadLimits) -> None:
    """Each job not started keeps its ZIP in the database (for up to BATCH_KEEP_UNSTARTED_DAYS): one person's
    waiting uploads together may take no more than the quota, this one included."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if waiting_bytes + size > limits.quota_bytes:
        raise ManifestError(_("Your batch jobs not started yet keep %(waiting)s of uploads; with this one (%(size)s) "
                              "they would keep more than %(limit)s, the most one person's waiting uploads may "
                              "(BATCH_QUOTA_MB). Start or discard a waiting job on the Batch enrolment page, "
                              "then upload this one again.", waiting=size_text(waiting_bytes), size=size_text(size),
                              limit=size_text(limits.quota_bytes)))


def open_archive(stream, limits: UploadLimits) -> zipfile.ZipFile:
    """The upload as a ZIP, once its end record and a count of its list show that listing it is affordable."""
    figures = stored.end_figures(stream)
    if figures is not None:
        if figures.entries > limits.members:
            raise _too_many_files(number_text(figures.entries), limits)
        if figures.list_bytes > limits.members * stored.CENTRAL_ENTRY_BYTES:
            raise ManifestError(_("The ZIP's list of files takes %(size)s, more than %(count)s files may "
                                  "(BATCH_MAX_ZIP_MEMBERS): split it into smaller ZIPs.",
                                  size=size_text(figures.list_bytes), count=number_text(limits.members)))
        if stored.count_listed(stream, figures, limits.members) > limits.members:  # the end record understated it
            raise _too_many_files(_("more than %(count)s", count=number_text(limits.members)), limits)
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ManifestError(_("The archive is not a ZIP file: make one with your system's "
                              "“Compress” or “Send to → Compressed folder”.")) from None


def _too_many_files(how_many: str, limits: UploadLimits) -> ManifestError:
    return ManifestError(_("The ZIP holds %(count)s files, more than one batch upload may hold "
                           "(%(limit)s, BATCH_MAX_ZIP_MEMBERS): split it into smaller ZIPs.", count=how_many,
                           limit=number_text(limits.members)))


def check_referenced(infos: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    """The files the rows name, each read once whatever the number of rows: what they declare they
    unpack to, in all and each against its packed size. Photos hardly compress (JPEG, HEIC, WebP,
    PNG are compressed already), so a file that shrank a hundredfold in the ZIP is not a photo."""
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.compression_ratio:
            raise ManifestError(_(
                "“%(name)s” would unpack from %(packed)s to %(unpacked)s, %(ratio)s times its size in the ZIP: more "
                "than %(limit)s times (BATCH_MAX_COMPRESSION_RATIO) is not a photo.", name=info.filename,
                packed=size_text(info.compress_size), unpacked=size_text(info.file_size),
                ratio=number_text(round(ratio)), limit=number_text(limits.compression_ratio)))
    total = sum(info.file_size for info in infos)
    if total > limits.uncompressed_bytes:
        raise ManifestError(_("The files the rows name would unpack to %(size)s, more than one batch may hold "
                              "(%(limit)s, BATCH_MAX_UNCOMPRESSED_MB): split the upload.", size=size_text(total),
                              limit=size_text(limits.uncompressed_bytes)))


def clean_name(name: str) -> str:
    """A ZIP entry's name as rows refer to it: forward slashes, no leading ``./`` or ``/``."""
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _entry(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The entry a (cleaned) name stands for; written as ``C:\\x.jpg`` or ``/x.jpg`` in the ZIP itself."""
    try:
        return archive.getinfo(name)
    except KeyError:
        for info in archive.infolist():
            if clean_name(info.filename) == name:
                return info
    raise ManifestError(_("could not be read from the ZIP: the entry is not there"))


def read_member(archive: zipfile.ZipFile, name: str, limit: int, setting: str) -> bytes:
    """A file's bytes from the ZIP, reading no more than ``limit`` whatever its header says;
    ManifestError saying why when it cannot be read or is larger."""
    entry = _entry(archive, name)
    try:
        with archive.open(entry) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError, zlib.error,
            lzma.LZMAError) as error:  # an LZMA entry with bad options (the fuzz test's) raised unhandled
        raise ManifestError(_("could not be read from the ZIP: it is encrypted") if "encrypted" in str(error)
                            else _("could not be read from the ZIP: the ZIP entry is damaged")) from None
    if len(data) > limit:
        raise ManifestError(_("is larger than %(size)s once unpacked (%(setting)s)", size=size_text(limit),
                              setting=setting))
    return data
