"""What one batch upload may cost the portal, checked before anything is stored.

Every figure here comes from the ZIP's own records (its end record, then its list of files) or
from a read that stops at the limit, so a hostile upload is refused for the price of reading its
list: a ZIP of a few KB that would unpack to gigabytes, or that lists hundreds of thousands of
files, never gets further. Each refusal names the setting that sets its limit.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass

from facesite.batch import archive as stored

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

    @classmethod
    def from_config(cls, config) -> UploadLimits:
        return cls(rows=config["BATCH_MAX_ROWS"], members=config["BATCH_MAX_ZIP_MEMBERS"],
                   uncompressed_bytes=int(config["BATCH_MAX_UNCOMPRESSED_MB"] * MB),
                   compression_ratio=config["BATCH_MAX_COMPRESSION_RATIO"],
                   picture_bytes=int(config["BATCH_MAX_PICTURE_MB"] * MB),
                   manifest_bytes=int(config["BATCH_MAX_MANIFEST_MB"] * MB))


def size_text(size: int) -> str:
    if size < MB / 10:
        return f"{size:,} bytes"
    return f"{size / MB:,.{1 if size >= 10 * MB else 2}f} MB"


def read_manifest(upload, limits: UploadLimits) -> bytes | None:
    """The manifest uploaded beside the ZIP, read no further than its limit allows."""
    if not upload or not upload.filename:
        return None
    data = upload.stream.read(limits.manifest_bytes + 1)
    if len(data) > limits.manifest_bytes:
        raise ManifestError(f"The manifest is larger than {size_text(limits.manifest_bytes)}, the most a batch "
                            "manifest may be (BATCH_MAX_MANIFEST_MB): split the upload.")
    return data


def open_archive(stream, limits: UploadLimits) -> zipfile.ZipFile:
    """The upload as a ZIP, once its end record and a count of its list show that listing it is affordable."""
    figures = stored.end_figures(stream)
    if figures is not None:
        if figures.entries > limits.members:
            raise _too_many_files(f"{figures.entries:,}", limits)
        if figures.list_bytes > limits.members * stored.CENTRAL_ENTRY_BYTES:
            raise ManifestError(f"The ZIP's list of files takes {size_text(figures.list_bytes)}, more than "
                                f"{limits.members:,} files may (BATCH_MAX_ZIP_MEMBERS): split it into smaller ZIPs.")
        if stored.count_listed(stream, figures, limits.members) > limits.members:  # the end record understated it
            raise _too_many_files(f"more than {limits.members:,}", limits)
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ManifestError("The archive is not a ZIP file: make one with your system's "
                            "“Compress” or “Send to → Compressed folder”.") from None


def _too_many_files(how_many: str, limits: UploadLimits) -> ManifestError:
    return ManifestError(f"The ZIP holds {how_many} files, more than one batch upload may hold "
                         f"({limits.members:,}, BATCH_MAX_ZIP_MEMBERS): split it into smaller ZIPs.")


def check_referenced(infos: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    """The files the rows name, each read once whatever the number of rows: what they declare they
    unpack to, in all and each against its packed size. Photos hardly compress (JPEG, HEIC, WebP,
    PNG are compressed already), so a file that shrank a hundredfold in the ZIP is not a photo."""
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.compression_ratio:
            raise ManifestError(
                f"“{info.filename}” would unpack from {size_text(info.compress_size)} to "
                f"{size_text(info.file_size)}, {ratio:,.0f} times its size in the ZIP: more than "
                f"{limits.compression_ratio:g} times (BATCH_MAX_COMPRESSION_RATIO) is not a photo.")
    total = sum(info.file_size for info in infos)
    if total > limits.uncompressed_bytes:
        raise ManifestError(f"The files the rows name would unpack to {size_text(total)}, more than one batch may "
                            f"hold ({size_text(limits.uncompressed_bytes)}, BATCH_MAX_UNCOMPRESSED_MB): "
                            "split the upload.")


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
    raise ManifestError("could not be read from the ZIP: the entry is not there")


def read_member(archive: zipfile.ZipFile, name: str, limit: int, setting: str) -> bytes:
    """A file's bytes from the ZIP, reading no more than ``limit`` whatever its header says;
    ManifestError saying why when it cannot be read or is larger."""
    entry = _entry(archive, name)
    try:
        with archive.open(entry) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError, zlib.error) as error:
        reason = "it is encrypted" if "encrypted" in str(error) else "the ZIP entry is damaged"
        raise ManifestError(f"could not be read from the ZIP: {reason}") from None
    if len(data) > limit:
        raise ManifestError(f"is larger than {size_text(limit)} once unpacked ({setting})")
    return data
