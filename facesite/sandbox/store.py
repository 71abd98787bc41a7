"""The sandbox's storage: face sets, faces with their embeddings, and tokens, in one SQLite file.

Several sandbox threads (and processes) share the file. Search keeps each face
set's embeddings as one numpy matrix in memory and only reads the rows added
since it last looked, so a search is one vectorised pass however big the set.
"""
from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from facesite import owner_only

SCHEMA = """
CREATE TABLE IF NOT EXISTS face_sets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    face_set_id TEXT NOT NULL REFERENCES face_sets(id),
    created_at TEXT NOT NULL,
    last_updated_at TEXT NOT NULL,
    deleted_at TEXT,
    face_image_id TEXT NOT NULL,
    external_reference_id TEXT,
    id_number TEXT,
    id_card_type TEXT,
    country TEXT,
    name TEXT,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS faces_by_set ON faces (face_set_id, id);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    access_key TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

# The vendor's face object, as it names its fields.
FACE_COLUMNS = {
    "id": "id", "createdAt": "created_at", "lastUpdatedAt": "last_updated_at", "deletedAt": "deleted_at",
    "faceImageId": "face_image_id", "externalReferenceId": "external_reference_id",
    "idNumber": "id_number", "idCardType": "id_card_type", "country": "country", "name": "name",
}


def vendor_timestamp() -> str:
    """ISO-8601 with milliseconds and no time zone, as the vendor writes it (UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class _SetMatrix:
    def __init__(self):
        self.last_id = 0
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, 128), dtype=np.float32)


class SandboxStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        owner_only.sqlite_file(self.path)  # the faces' details and embeddings: personal data
        self._matrices: dict[str, _SetMatrix] = {}
        self._matrix_lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    # -- face sets ---------------------------------------------------------------

    def create_face_set(self, face_set_id: str, name: str = "") -> bool:
        """Create a face set; False when one with that id exists already."""
        with closing(self._connect()) as db, db:
            cursor = db.execute("INSERT OR IGNORE INTO face_sets (id, name, created_at) VALUES (?, ?, ?)",
                                (face_set_id, name, vendor_timestamp()))
            return cursor.rowcount == 1

    def face_set_exists(self, face_set_id: str) -> bool:
        with closing(self._connect()) as db:
            return db.execute("SELECT 1 FROM face_sets WHERE id = ?", (face_set_id,)).fetchone() is not None

    def list_face_sets(self) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT s.id, s.name, s.created_at, COUNT(f.id) AS faces FROM face_sets s "
                              "LEFT JOIN faces f ON f.face_set_id = s.id AND f.deleted_at IS NULL "
                              "GROUP BY s.id ORDER BY s.created_at, s.id").fetchall()
        return [{"id": r["id"], "name": r["name"], "createdAt": r["created_at"], "faces": r["faces"]}
                for r in rows]

    # -- faces ---------------------------------------------------------------------

    def add_face(self, face_set_id: str, embedding: np.ndarray, details: dict, image_extension: str) -> str:
        now = vendor_timestamp()
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO faces (face_set_id, created_at, last_updated_at, face_image_id, "
                "external_reference_id, id_number, id_card_type, country, name, embedding) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (face_set_id, now, now, secrets.token_hex(12) + image_extension,
                 details.get("externalReferenceId"), details.get("idNumber"), details.get("idCardType"),
                 details.get("country"), details.get("name"),
                 np.asarray(embedding, dtype=np.float32).tobytes()))
            return str(cursor.lastrowid)

    def add_embeddings(self, face_set_id: str, vectors: np.ndarray) -> None:
        """Bulk insert of bare embeddings (benchmarks fill a set with synthetic faces this way)."""
        now = vendor_timestamp()
        rows = [(face_set_id, now, now, f"synthetic-{i}.jpg", np.asarray(v, np.float32).tobytes())
                for i, v in enumerate(vectors)]
        with closing(self._connect()) as db, db:
            db.executemany("INSERT INTO faces (face_set_id, created_at, last_updated_at, face_image_id, "
                           "embedding) VALUES (?, ?, ?, ?, ?)", rows)

    def count_faces(self, face_set_id: str | None = None) -> int:
        with closing(self._connect()) as db:
            if face_set_id is None:
                return db.execute("SELECT COUNT(*) FROM faces").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM faces WHERE face_set_id = ?", (face_set_id,)).fetchone()[0]

    def external_references(self, face_set_id: str) -> list[str | None]:
        """The externalReferenceId of every face in a set, one per face (operators count duplicates with it)."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT external_reference_id FROM faces WHERE face_set_id = ? AND deleted_at IS NULL "
                              "ORDER BY id", (face_set_id,)).fetchall()
        return [row[0] for row in rows]

    def embeddings(self, face_set_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(face ids, embedding matrix) of the live faces of a set, refreshed with rows added since."""
        with self._matrix_lock:
            matrix = self._matrices.setdefault(face_set_id, _SetMatrix())
            with closing(self._connect()) as db:
                rows = db.execute("SELECT id, embedding FROM faces WHERE face_set_id = ? AND id > ? "
                                  "AND deleted_at IS NULL ORDER BY id", (face_set_id, matrix.last_id)).fetchall()
            if rows:
                new_ids = np.fromiter((r["id"] for r in rows), dtype=np.int64, count=len(rows))
                new_vectors = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype=np.float32)
                matrix.ids = np.concatenate([matrix.ids, new_ids])
                matrix.vectors = np.concatenate([matrix.vectors, new_vectors.reshape(len(rows), -1)])
                matrix.last_id = int(new_ids[-1])
            return matrix.ids, matrix.vectors

    def faces_by_id(self, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT * FROM faces WHERE id IN ({marks})", [int(i) for i in ids]).fetchall()
        return {row["id"]: {key: (str(row[col]) if key == "id" else row[col]) for key, col in FACE_COLUMNS.items()}
                for row in rows}

    # -- tokens --------------------------------------------------------------------

    def issue_token(self, access_key: str, period_seconds: int) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + period_seconds
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time(),))
            db.execute("INSERT INTO tokens (token, access_key, expires_at) VALUES (?, ?, ?)",
                       (token, access_key, expires_at))
        return token, expires_at

    def token_is_valid(self, token: str) -> bool:
        with closing(self._connect()) as db:
            row = db.execute("SELECT expires_at FROM tokens WHERE token = ?", (token,)).fetchone()
        return row is not None and row["expires_at"] > time.time()

    def revoke_tokens(self) -> int:
        """Expire every token at once (lets tests and rehearsals see a token die mid-way)."""
        with closing(self._connect()) as db, db:
            return db.execute("DELETE FROM tokens").rowcount
