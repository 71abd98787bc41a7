"""Files and folders of the instance folder that hold personal data or secrets (the SQLite databases, kept
pictures, the generated secret key): readable by the account the portal runs as alone, 0600 files in 0700
folders, whatever the process's umask (a common 022 would leave them readable by every local account)."""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE, FOLDER_MODE = 0o600, 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # what SQLite writes beside a database


def folder(path: str | Path) -> Path:
    """``path`` made if need be (with its parents), and narrowed to its owner if it was not."""
    path = Path(path)
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


def new_file(path: str | Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL) -> int:
    """A descriptor of ``path`` opened with ``flags``, the file owner-only even if it existed."""
    descriptor = os.open(path, flags, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return descriptor


def sqlite_file(path: str | Path) -> None:
    """Before SQLite opens ``path``: the database file exists owner-only (an empty file is an empty
    database), so the -wal and -shm files SQLite makes beside it take the same mode, which it copies from
    its database; any left from before are narrowed too."""
    folder(Path(path).parent)
    os.close(new_file(path, os.O_RDWR | os.O_CREAT))
    for companion in SQLITE_COMPANIONS:
        try:
            os.chmod(f"{path}{companion}", FILE_MODE)
        except FileNotFoundError:
            pass
