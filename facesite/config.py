"""Settings, read only from the environment, each with a safe default."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from facesite.advance import REGION_HOSTS


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def has_vendor_credentials(env=os.environ) -> bool:
    return bool(env.get("ADVANCE_ACCESS_TOKEN") or (env.get("ADVANCE_ACCESS_KEY") and env.get("ADVANCE_SECRET_KEY")))


def needs_embedded_sandbox(env=os.environ) -> bool:
    """No vendor credentials and no upstream named: the portal starts its own sandbox."""
    return not has_vendor_credentials(env) and not env.get("ADVANCE_BASE_URL")


def vendor_base_url(env=os.environ) -> str | None:
    """ADVANCE_BASE_URL wins over ADVANCE_REGION; None means 'start the sandbox'."""
    if env.get("ADVANCE_BASE_URL"):
        return env["ADVANCE_BASE_URL"].rstrip("/")
    if not has_vendor_credentials(env):
        return None
    region = env.get("ADVANCE_REGION", "id").strip().lower()
    if region not in REGION_HOSTS:
        raise RuntimeError(f"ADVANCE_REGION must be one of {', '.join(sorted(REGION_HOSTS))}, not {region!r}")
    return REGION_HOSTS[region]


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one made once and kept in the instance
    folder, so every worker process (and a restart) signs sessions and CSRF tokens alike."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    return {
        "SECRET_KEY": secret_key(instance_path),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 16) * 1024 * 1024,
        "ADVANCE_BASE_URL": vendor_base_url(),
        "ADVANCE_ACCESS_KEY": os.environ.get("ADVANCE_ACCESS_KEY") or None,
        "ADVANCE_SECRET_KEY": os.environ.get("ADVANCE_SECRET_KEY") or None,
        "ADVANCE_ACCESS_TOKEN": os.environ.get("ADVANCE_ACCESS_TOKEN") or None,
        "ADVANCE_TOKEN_PERIOD": min(max(_int("ADVANCE_TOKEN_PERIOD", 3600), 60), 86400),
        "ADVANCE_CONNECT_TIMEOUT": _int("ADVANCE_CONNECT_TIMEOUT", 5),
        "ADVANCE_READ_TIMEOUT": _int("ADVANCE_READ_TIMEOUT", 30),
        "SANDBOX_MODE": not has_vendor_credentials(),
        "DRAFT_MAX_AGE_HOURS": _int("DRAFT_MAX_AGE_HOURS", 24),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
    }
