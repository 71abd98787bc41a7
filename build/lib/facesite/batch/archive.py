"""A batch upload's ZIP: sized up before it is opened, kept in the database in chunks, read back in any process.

The upload request stores the ZIP once, as it came, in pieces of CHUNK_BYTES (``BatchUploadChunk``);
the background check reads the pictures back through ``StoredArchive``, a seekable file that fetches
one chunk at a time, so neither memory nor the web process's disk holds the whole upload, and a worker
on another machine reads it as easily as the process that received it.

Before Python's ``zipfile`` lists a ZIP (it reads the whole list of files into memory, then makes one
object per entry), ``end_figures`` reads the end-of-central-directory record (how many entries the ZIP
declares and how large its list is) and ``count_listed`` counts the entries the list really holds,
stopping past the limit. A ZIP over the limit is refused without being listed.
"""
from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from facesite.models import BatchUploadChunk

CHUNK_BYTES = 1024 * 1024
CHUNKS_PER_TRANSACTION = 8
# The list of files may take this much per file allowed (46 fixed bytes per entry, then its name and
# extra fields): Python's zipfile reads the whole list into memory before it looks at any entry.
CENTRAL_ENTRY_BYTES = 1024

# The records as Python's zipfile finds and reads them (its _EndRecData, _EndRecData64, _RealGetContents):
# the figures checked here are the very ones it goes on to use.
END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries in all, list size, offset, comment
END_SIGNATURE = b"PK\x05\x06"
LONGEST_COMMENT = 1 << 16
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_RECORD = struct.Struct("<4sQ2H2L4Q")  # ..., entries here, entries in all, list size, offset
ZIP64_SIGNATURE = b"PK\x06\x06"
LIST_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # one file in the list: 46 bytes, then name, extra, comment
LIST_SIGNATURE = b"PK\x01\x02"


class ArchiveGone(OSError):
    """The stored ZIP was deleted (the upload discarded or purged) while it was being read."""


@dataclass(frozen=True)
class ZipFigures:
    entries: int  # as the end record declares
    list_bytes: int  # size of the list of files (the central directory)
    list_start: int


def end_figures(stream) -> ZipFigures | None:
    """What the ZIP's end records say, reading at most ~64 KB; None when there is none (not a ZIP:
    zipfile says so in its own words)."""
    size = stream.seek(0, io.SEEK_END)
    tail_start = max(0, size - LONGEST_COMMENT - END_RECORD.size)
    stream.seek(tail_start)
    tail = stream.read()
    if len(tail) >= END_RECORD.size and tail[-END_RECORD.size:][:4] == END_SIGNATURE and tail[-2:] == b"\0\0":
        at = len(tail) - END_RECORD.size
    else:
        at = tail.rfind(END_SIGNATURE)
        if at < 0 or len(tail) - at < END_RECORD.size:
            return None
    fields, record_at = END_RECORD.unpack_from(tail, at), tail_start + at
    entries, list_bytes, before = max(fields[3], fields[4]), fields[5], 0
    zip64 = _zip64_fields(stream, record_at)
    if zip64 is not None:
        entries, list_bytes = max(zip64[6], zip64[7]), zip64[8]
        before = ZIP64_RECORD.size + ZIP64_LOCATOR.size
    return ZipFigures(entries, list_bytes, record_at - list_bytes - before)


def _zip64_fields(stream, record_at: int) -> tuple | None:
    if record_at < ZIP64_LOCATOR.size + ZIP64_RECORD.size:
        return None
    stream.seek(record_at - ZIP64_LOCATOR.size)
    if stream.read(ZIP64_LOCATOR.size)[:4] != ZIP64_LOCATOR_SIGNATURE:
        return None
    stream.seek(record_at - ZIP64_LOCATOR.size - ZIP64_RECORD.size)
    record = stream.read(ZIP64_RECORD.size)
    return ZIP64_RECORD.unpack(record) if record[:4] == ZIP64_SIGNATURE else None


def count_listed(stream, figures: ZipFigures, most: int) -> int:
    """How many files the list really holds (whatever the end record declares), counting no further
    than ``most + 1``: one header read per file, nothing kept."""
    if figures.list_start < 0:
        return 0  # zipfile refuses it
    stream.seek(figures.list_start)
    listed = total = 0
    while total < figures.list_bytes and listed <= most:
        header = stream.read(LIST_ENTRY.size)
        if len(header) < LIST_ENTRY.size or header[:4] != LIST_SIGNATURE:
            break  # damaged: zipfile says so
        fields = LIST_ENTRY.unpack(header)
        skip = fields[12] + fields[13] + fields[14]  # name, extra field, comment
        stream.seek(skip, io.SEEK_CUR)
        total += LIST_ENTRY.size + skip
        listed += 1
    stream.seek(0)
    return listed


def store(engine: Engine, job_id: int, stream) -> int:
    """Copy the upload into the job's chunks, CHUNK_BYTES at a time; its size in bytes."""
    stream.seek(0)
    size, seq, batch = 0, 0, []
    while True:
        data = stream.read(CHUNK_BYTES)
        if data:
            batch.append({"job_id": job_id, "seq": seq, "data": data})
            size, seq = size + len(data), seq + 1
        if batch and (not data or len(batch) == CHUNKS_PER_TRANSACTION):
            with engine.begin() as connection:
                connection.execute(insert(BatchUploadChunk), batch)
            batch = []
        if not data:
            return size


def forget(engine: Engine, job_id: int) -> int:
    """Delete a job's stored ZIP; how many chunks there were."""
    with engine.begin() as connection:
        return connection.execute(delete(BatchUploadChunk).where(BatchUploadChunk.job_id == job_id)).rowcount


class StoredArchive(io.RawIOBase):
    """A job's stored ZIP as a read-only, seekable file; holds one chunk in memory at a time."""

    def __init__(self, engine: Engine, job_id: int, size: int):
        super().__init__()
        self.engine, self.job_id, self.size = engine, job_id, size
        self.position = 0
        self.chunk_seq, self.chunk = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.size - self.position)
        done = 0
        while done < wanted:
            seq, offset = divmod(self.position, CHUNK_BYTES)
            if seq != self.chunk_seq:
                self.chunk, self.chunk_seq = self._fetch(seq), seq
            piece = self.chunk[offset:offset + wanted - done]
            if not piece:
                raise ArchiveGone(f"chunk {seq} of the stored upload is shorter than expected")
            buffer[done:done + len(piece)] = piece
            done += len(piece)
            self.position += len(piece)
        return done

    def _fetch(self, seq: int) -> bytes:
        with self.engine.connect() as connection:
            data = connection.scalar(select(BatchUploadChunk.data).where(BatchUploadChunk.job_id == self.job_id,
                                                                         BatchUploadChunk.seq == seq))
        if data is None:
            raise ArchiveGone(f"the stored upload of batch job {self.job_id} is no longer kept")
        return bytes(data)


def open_stored(engine: Engine, job_id: int, size: int) -> zipfile.ZipFile:
    return zipfile.ZipFile(StoredArchive(engine, job_id, size))
