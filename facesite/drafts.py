"""What the portal keeps between one request and the next, in files under the instance folder.

- Pictures: an uploaded picture is kept so that a form shown again after an
  error still has it attached (browsers cannot refill a file field), and so the
  result page can preview what was sent.
- Submissions: every form carries a one-time submission id. The first request
  to claim it does the work and records the outcome; a double click or a
  refresh finds the claim and is shown that outcome instead of calling the
  vendor again. Claiming is an exclusive file create, atomic across threads and
  worker processes.

Files older than ``max_age_seconds`` are swept away now and then.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PICTURE_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
SWEEP_EVERY = 50  # writes between two sweeps


def new_id() -> str:
    return secrets.token_urlsafe(24)


def valid_id(value: str | None) -> bool:
    return bool(value) and bool(_ID.match(value))


class DraftStore:
    def __init__(self, folder: str, max_age_seconds: int = 24 * 3600):
        self.folder = Path(folder)
        self.max_age_seconds = max_age_seconds
        self.folder.mkdir(parents=True, exist_ok=True)
        self._writes = 0

    # -- pictures ------------------------------------------------------------

    def keep_picture(self, data: bytes, extension: str) -> str:
        picture_id = new_id()
        self._write(self.folder / f"{picture_id}{extension}", data)
        return picture_id

    def picture(self, picture_id: str | None) -> tuple[bytes, str] | None:
        """(bytes, MIME type) of a kept picture, or None when unknown or swept."""
        if not valid_id(picture_id):
            return None
        for extension, mime_type in PICTURE_TYPES.items():
            path = self.folder / f"{picture_id}{extension}"
            if path.exists():
                return path.read_bytes(), mime_type
        return None

    # -- submissions -----------------------------------------------------------

    def claim(self, submission_id: str) -> bool:
        """True for the first caller only."""
        if not valid_id(submission_id):
            return False
        try:
            fd = os.open(self._claim_path(submission_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def finish(self, submission_id: str, outcome: dict) -> None:
        self._write(self._outcome_path(submission_id), json.dumps(outcome).encode())

    def outcome(self, submission_id: str | None) -> dict | None:
        if not valid_id(submission_id):
            return None
        try:
            return json.loads(self._outcome_path(submission_id).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def wait_for_outcome(self, submission_id: str, timeout: float) -> dict | None:
        """The outcome of a submission another request is still working on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = self.outcome(submission_id)
            if outcome is not None:
                return outcome
            time.sleep(0.1)
        return None

    # -- housekeeping ------------------------------------------------------------

    def _claim_path(self, submission_id: str) -> Path:
        return self.folder / f"{submission_id}.claim"

    def _outcome_path(self, submission_id: str) -> Path:
        return self.folder / f"{submission_id}.json"

    def _write(self, path: Path, data: bytes) -> None:
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers never see half a file
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> int:
        cutoff = time.time() - self.max_age_seconds
        removed = 0
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed
