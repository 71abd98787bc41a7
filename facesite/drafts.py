"""What the portal keeps between one request and the next, in the database (so every web process,
on any machine, sees the same).

- Pictures: an uploaded picture is kept so that a form shown again after an
  error still has it attached (browsers cannot refill a file field), and so the
  result page can preview what was sent.
- Submissions: every form carries a one-time submission id. The first request
  to claim it does the work and records the outcome; a double click or a
  refresh finds the claim and is shown that outcome instead of calling the
  vendor again. Claiming inserts a row under a unique key: atomic across
  threads, processes and machines.

Each entry belongs to whoever sent the form (``owner``, a username). Every read
names the reader: an entry kept for someone else reads exactly like one that does
not exist, so ids cannot be probed. Administrators read with ``ANY_OWNER``.

Entries older than ``max_age_seconds`` are swept away now and then.

With SQLite (one machine by construction: the database is a local file) the bytes of kept pictures
live as files in ``picture_folder`` beside it, and their rows hold only the owner and type: a 1.3 MB
blob written into the single-writer database per search held up every other writer and grew the
database by hundreds of megabytes an hour. With a database server they stay in the database, which
every machine of the cluster reads.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from facesite import owner_only
from facesite.config import settings
from facesite.extensions import short_transactions
from facesite.models import Draft, utcnow

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PICTURE_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
SWEEP_EVERY = 50  # writes between two sweeps


class _AnyOwner:
    def __repr__(self) -> str:
        return "ANY_OWNER"


# Passed as the reader by those who may read everyone's entries (administrators). A sentinel rather
# than None, so that a reader left unset by mistake reads nothing instead of everything.
ANY_OWNER = _AnyOwner()


def new_id() -> str:
    return secrets.token_urlsafe(24)


def valid_id(value: str | None) -> bool:
    return bool(value) and bool(_ID.match(value))


class DraftStore:
    """Reads and writes in short transactions of their own, outside any request's session."""

    def __init__(self, engine, max_age_seconds: int = 24 * 3600, picture_folder: str | None = None,
                 sealed_max_age_seconds: int = 600):
        self.engine = engine
        self.max_age_seconds = max_age_seconds
        self.sealed_max_age_seconds = sealed_max_age_seconds
        self.picture_folder = Path(picture_folder) if picture_folder else None
        if self.picture_folder:
            owner_only.folder(self.picture_folder)
        self._writes = 0

    # -- pictures ------------------------------------------------------------

    def keep_picture(self, data: bytes, extension: str, owner: str) -> str:
        picture_id = new_id()
        if self.picture_folder:
            self._write_file(picture_id, data)  # first: a row never names a file that is not there
            data = None
        self._insert(f"picture:{picture_id}", data, PICTURE_TYPES[extension], owner)
        return picture_id

    def keep_picture_once(self, picture_id: str, data: bytes, extension: str, owner: str) -> str:
        """``keep_picture`` under an id the caller derives from what the picture is: the same picture kept
        again by the same person is the copy kept before, so asking again and again writes nothing more."""
        if self.picture(picture_id, owner) is not None:
            return picture_id
        if self.picture_folder:
            self._write_file(picture_id, data, replace=True)
            data = None
        try:
            self._insert(f"picture:{picture_id}", data, PICTURE_TYPES[extension], owner)
        except IntegrityError:  # the same request, sent twice at once: the other one kept it
            pass
        return picture_id

    def picture(self, picture_id: str | None, reader) -> tuple[bytes, str] | None:
        """(bytes, MIME type) of a kept picture, or None when unknown, swept or not the reader's."""
        if not valid_id(picture_id):
            return None
        found = self._read(f"picture:{picture_id}", reader)
        if found is None:
            return None
        if found.data is not None:
            return found.data, found.media_type
        try:
            return (self.picture_folder / picture_id).read_bytes(), found.media_type
        except (OSError, TypeError):  # swept between the two reads, or kept by a set-up without files
            return None

    def _write_file(self, picture_id: str, data: bytes, replace: bool = False) -> None:
        # Its own partial file when the same id may be written twice at once (keep_picture_once).
        partial = self.picture_folder / (f".{picture_id}.{new_id()}.partial" if replace else f".{picture_id}.partial")
        descriptor = owner_only.new_file(partial)  # personal data
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(partial, self.picture_folder / picture_id)

    # -- submissions -----------------------------------------------------------

    def claim(self, submission_id: str, owner: str) -> bool:
        """True for the first caller only."""
        if not valid_id(submission_id):
            return False
        try:
            self._insert(f"claim:{submission_id}", None, None, owner)
        except IntegrityError:
            return False
        return True

    def claimed(self, submission_id: str, reader) -> bool:
        """Whether the reader may wait for this claim's outcome (it is theirs)."""
        return valid_id(submission_id) and self._read(f"claim:{submission_id}", reader) is not None

    def finish(self, submission_id: str, outcome: dict, owner: str) -> None:
        self._insert(f"outcome:{submission_id}", json.dumps(outcome).encode(), "application/json", owner)

    def outcome(self, submission_id: str | None, reader) -> dict | None:
        if not valid_id(submission_id):
            return None
        found = self._read(f"outcome:{submission_id}", reader)
        return json.loads(found.data) if found else None

    def keep_sealed(self, submission_id: str, sealed: str, owner: str) -> None:
        """The ID number a form sent, sealed (id_numbers.seal), for its result page: apart from the outcome,
        so that it goes after ``sealed_max_age_seconds`` while the outcome stays its day."""
        self._insert(f"sealed:{submission_id}", sealed.encode(), "text/plain", owner)

    def sealed(self, submission_id: str | None, reader) -> str | None:
        found = self._read(f"sealed:{submission_id}", reader) if valid_id(submission_id) else None
        return found.data.decode() if found and found.data else None

    def owner(self, kind: str, entry_id: str | None) -> str | None:
        """Who a kept ``picture`` or a submission's ``outcome`` belongs to; None when there is no such entry."""
        if not valid_id(entry_id):
            return None
        with self.engine.connect() as connection:
            return connection.execute(select(Draft.owner).where(Draft.key == f"{kind}:{entry_id}")).scalar()

    def wait_for_outcome(self, submission_id: str, reader, timeout: float) -> dict | None:
        """The outcome of a submission another request of the same reader is still working on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = self.outcome(submission_id, reader)
            if outcome is not None:
                return outcome
            time.sleep(0.1)
        return None

    # -- housekeeping ------------------------------------------------------------

    def _read(self, key: str, reader):
        query = select(Draft.data, Draft.media_type).where(Draft.key == key)
        if reader is not ANY_OWNER:
            if not reader:  # nobody in particular: nothing is theirs
                return None
            query = query.where(Draft.owner == reader)
        with self.engine.connect() as connection:
            return connection.execute(query).first()

    def _insert(self, key: str, data: bytes | None, media_type: str | None, owner: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(Draft).values(key=key, data=data, media_type=media_type, owner=owner,
                                                    created_at=utcnow()))
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self, now: datetime | None = None) -> int:
        """Forget every entry older than ``max_age_seconds`` (rows and picture files); how many rows."""
        now = now or utcnow()
        cutoff = now - timedelta(seconds=self.max_age_seconds)
        sealed_cutoff = now - timedelta(seconds=self.sealed_max_age_seconds)
        with self.engine.begin() as connection:
            removed = connection.execute(delete(Draft).where(Draft.created_at < cutoff)).rowcount
            removed += connection.execute(delete(Draft).where(Draft.key.startswith("sealed:"),
                                                              Draft.created_at < sealed_cutoff)).rowcount
        if self.picture_folder:
            # By the file's own time: this also takes files whose row was never written.
            oldest = cutoff.timestamp()
            for entry in os.scandir(self.picture_folder):
                try:
                    if entry.stat().st_mtime < oldest:
                        os.unlink(entry.path)
                except FileNotFoundError:  # another process swept it first
                    pass
        return removed


EXTENSION = "facesite.drafts"  # where an app keeps its store (app.extensions)


def init_app(app: Flask) -> None:
    """The app's store. With SQLite (one machine) kept pictures go to files beside the database, not into
    its single writer."""
    with app.app_context():
        on_sqlite = settings(app).sqlalchemy_database_uri.startswith("sqlite")
        app.extensions[EXTENSION] = DraftStore(
            short_transactions(), max_age_seconds=settings(app).draft_max_age_hours * 3600,
            sealed_max_age_seconds=settings(app).id_number_shown_minutes * 60,
            picture_folder=os.path.join(app.instance_path, "kept-pictures") if on_sqlite else None)


def drafts() -> DraftStore:
    """The store of kept pictures and form outcomes of the current app."""
    return current_app.extensions[EXTENSION]
