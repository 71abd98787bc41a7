"""The sandbox's keys, fresh for every start and shared only by the portal and the sandbox it started.

Three keys: the vendor-API pair (access key, secret key) the portal signs its tokens with, and the operator
key every ``/sandbox/…`` endpoint asks for. The launcher makes them, hands them to its child through the
environment, and keeps them in memory by the sandbox's URL (gunicorn's workers inherit them from the master).
The sandbox writes them, with its URL, to an owner-only file beside its database, so that the operator's own
commands and a batch worker of the same portal find them; the worker then has the sandbox prove that it holds
the operator key before sending it anything (``operator_api.proves_key``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from facesite import owner_only

ACCESS_VARIABLE, SECRET_VARIABLE, OPERATOR_VARIABLE = "SANDBOX_ACCESS_KEY", "SANDBOX_SECRET_KEY", "SANDBOX_OPERATOR_KEY"
OPERATOR_HEADER = "X-Sandbox-Operator-Key"
DEFAULT_DB = Path(__file__).resolve().parents[2] / "instance" / "sandbox.sqlite3"


@dataclass(frozen=True)
class SandboxKeys:
    access_key: str
    secret_key: str
    operator_key: str

    def environment(self) -> dict[str, str]:
        """What the launcher hands its child."""
        return {ACCESS_VARIABLE: self.access_key, SECRET_VARIABLE: self.secret_key,
                OPERATOR_VARIABLE: self.operator_key}

    def __repr__(self) -> str:  # never a key in a log line or a traceback
        return "SandboxKeys(…)"


def configured(env=os.environ) -> SandboxKeys:
    """The keys the environment names, each one it does not name fresh and random. The pair is named only by
    someone running a sandbox of their own (ADVANCE_BASE_URL); the operator key only by the launcher."""
    return SandboxKeys(env.get(ACCESS_VARIABLE) or "sandbox-" + secrets.token_hex(8),
                       env.get(SECRET_VARIABLE) or secrets.token_urlsafe(32),
                       env.get(OPERATOR_VARIABLE) or secrets.token_urlsafe(32))


# The sandboxes this process started or has checked, by base URL: their keys go to them and nowhere else.
_known: dict[str, SandboxKeys] = {}


def remember(base_url: str, keys: SandboxKeys) -> None:
    _known[base_url.rstrip("/")] = keys


def for_url(base_url: str | None) -> SandboxKeys | None:
    return _known.get((base_url or "").rstrip("/"))


def sandbox_db_path() -> str:
    """SANDBOX_DB, else sandbox.sqlite3 in the portal's instance folder."""
    if os.environ.get("SANDBOX_DB"):
        return os.environ["SANDBOX_DB"]
    if os.environ.get("INSTANCE_PATH"):
        return os.path.join(os.environ["INSTANCE_PATH"], "sandbox.sqlite3")
    return str(DEFAULT_DB)


def key_file(db_path: str) -> Path:
    return Path(f"{db_path}.keys.json")


def save(db_path: str, base_url: str, keys: SandboxKeys) -> None:
    """The keys of the sandbox serving ``db_path`` at ``base_url``, readable by this account alone."""
    path = key_file(db_path)
    owner_only.folder(path.parent)
    descriptor = owner_only.new_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"url": base_url, **asdict(keys)}, out)


def load(db_path: str) -> tuple[str, SandboxKeys] | None:
    """(base URL, keys) of the last sandbox started on ``db_path``, if it left its file."""
    try:
        saved = json.loads(key_file(db_path).read_text())
        return saved["url"], SandboxKeys(saved["access_key"], saved["secret_key"], saved["operator_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sandbox_credentials(db_path: str | None = None) -> tuple[str, str]:
    """(access key, secret key) of the sandbox running on this machine's sandbox data, for the operator's
    own scripts (the benchmarks): read from the sandbox's owner-only key file."""
    found = load(db_path or sandbox_db_path())
    if found is None:
        raise RuntimeError("no sandbox has run on this data yet: start the portal or `python -m facesite.sandbox serve`")
    return found[1].access_key, found[1].secret_key


def proof(operator_key: str, challenge: str) -> str:
    """What the sandbox answers to ``challenge``: shows it holds the key without sending it."""
    return hmac.new(operator_key.encode(), challenge.encode(), hashlib.sha256).hexdigest()
