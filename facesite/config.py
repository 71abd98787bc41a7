"""Settings, read only from the environment, each with a safe default."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from facesite.advance import REGION_HOSTS, base_url_problem, is_loopback


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
        url = env["ADVANCE_BASE_URL"].strip().rstrip("/")
        problem = base_url_problem(url)
        if problem:
            raise RuntimeError(f"ADVANCE_BASE_URL {problem}")
        return url
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


def database_url(instance_path: str) -> str:
    """DATABASE_URL (Heroku's postgres:// form accepted), else SQLite in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "facesite.sqlite3")
    # SQLAlchemy 2.1 picks psycopg 3 for a bare postgresql:// URL; the portal ships psycopg2.
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url


def _names(name: str) -> set[str]:
    """A comma- or space-separated list setting, compared without case."""
    return {part.strip().lower() for part in os.environ.get(name, "").replace(",", " ").split() if part.strip()}


def trusted_proxy_hops(env=os.environ) -> int:
    """How many proxies in front of the portal add X-Forwarded-* headers that may be believed. 0 (trust
    none: a client could claim any address) unless set; 1 on Heroku, whose router documents that it
    appends the client's address (it sets DYNO in every process)."""
    value = env.get("TRUSTED_PROXY_HOPS", "").strip()
    if not value:
        return 1 if env.get("DYNO") else 0
    if not value.isdigit() or int(value) > 5:
        raise RuntimeError(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 5, not {value!r}")
    return int(value)


def flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def is_production(env=os.environ) -> bool:
    """Credentials for a vendor that is not on this machine. A sandbox, or a stand-in vendor on
    loopback (development, tests), is not production."""
    if not has_vendor_credentials(env):
        return False
    return not is_loopback(vendor_base_url(env) or "")


def batch_runner() -> str:
    """thread: batch jobs run inside the web processes; rq: in RQ workers (the default with REDIS_URL)."""
    runner = os.environ.get("BATCH_RUNNER", "").strip().lower() or ("rq" if os.environ.get("REDIS_URL") else "thread")
    if runner not in ("thread", "rq"):
        raise RuntimeError(f"BATCH_RUNNER must be thread or rq, not {runner!r}")
    if runner == "rq" and not os.environ.get("REDIS_URL"):
        raise RuntimeError("BATCH_RUNNER=rq needs REDIS_URL (the queue lives in Redis)")
    return runner


# What one batch upload may cost (each checked from the ZIP's own records before anything is stored; a
# refusal names its setting) and the disk its pictures may take once copied: setting -> default, at least 1.
BATCH_UPLOAD_LIMITS = {"BATCH_MAX_ZIP_MEMBERS": 10_000, "BATCH_MAX_UNCOMPRESSED_MB": 2048,
                       "BATCH_MAX_COMPRESSION_RATIO": 100, "BATCH_MAX_PICTURE_MB": 50, "BATCH_MAX_MANIFEST_MB": 20,
                       "BATCH_MAX_STORED_MB": 1024}
# Days a batch job that never finishes keeps its pictures, stored upload and full ID numbers: not started
# (from its upload), paused (from its pause), queued or running without a row finishing (from the last).
BATCH_KEEP_UNFINISHED_DAYS = {"BATCH_KEEP_UNSTARTED_DAYS": 7, "BATCH_KEEP_PAUSED_DAYS": 14,
                              "BATCH_KEEP_STALLED_DAYS": 7}


def from_environment(instance_path: str) -> dict:
    sandbox = not has_vendor_credentials()
    production = is_production()
    if production and not os.environ.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set when the portal talks to the real vendor "
                           "(it signs sessions and CSRF tokens; use a long random value)")
    frame_ancestors = os.environ.get("FRAME_ANCESTORS", "").split()
    auth_mode = os.environ.get("AUTH_MODE", "builtin").strip().lower()
    if auth_mode not in ("builtin", "header"):
        raise RuntimeError(f"AUTH_MODE must be builtin or header, not {auth_mode!r}")
    if auth_mode == "header" and not os.environ.get("AUTH_PROXY_SECRET"):
        raise RuntimeError("AUTH_MODE=header needs AUTH_PROXY_SECRET, or anyone could claim any user")
    if auth_mode == "header" and not (os.environ.get("AUTH_GROUPS_HEADER") or os.environ.get("AUTH_DEFAULT_ROLE")):
        raise RuntimeError("AUTH_MODE=header needs AUTH_GROUPS_HEADER (roles from the proxy's groups) or an "
                           "explicit AUTH_DEFAULT_ROLE: otherwise everyone the proxy lets through would get in")
    if os.environ.get("AUTH_DEFAULT_ROLE", "viewer") not in ("viewer", "operator", "admin"):
        raise RuntimeError("AUTH_DEFAULT_ROLE must be viewer, operator or admin")
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        # Connections are held only between vendor calls (see AuditTrail.started), so a small
        # pool serves many threads; size it for PostgreSQL's connection limit across processes.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": _int("DB_POOL_SIZE", 10),
                                      "max_overflow": _int("DB_POOL_OVERFLOW", 20)},
        "AUTH_MODE": auth_mode,
        "AUTH_HEADER": os.environ.get("AUTH_HEADER", "X-Forwarded-Email"),
        "AUTH_PROXY_SECRET": os.environ.get("AUTH_PROXY_SECRET") or None,
        "AUTH_DEFAULT_ROLE": os.environ.get("AUTH_DEFAULT_ROLE", "viewer"),
        # Header sign-on: roles from the proxy's group header, an allow-list of groups, and the
        # break-glass switch that lets local passwords in beside the proxy (off: the proxy alone).
        "AUTH_GROUPS_HEADER": os.environ.get("AUTH_GROUPS_HEADER", "").strip() or None,
        "AUTH_ROLE_GROUPS": {role: _names(f"AUTH_{role.upper()}_GROUPS") for role in ("viewer", "operator", "admin")},
        "AUTH_ALLOWED_GROUPS": _names("AUTH_ALLOWED_GROUPS"),
        "AUTH_BREAK_GLASS": flag("AUTH_BREAK_GLASS", False),
        # A session ends after this long without a request, and this long after sign-in whatever happens.
        "SESSION_IDLE_MINUTES": max(1, _int("SESSION_IDLE_MINUTES", 30)),
        "SESSION_MAX_HOURS": max(1, _int("SESSION_MAX_HOURS", _int("SESSION_HOURS", 8))),
        "PERMANENT_SESSION_LIFETIME": max(1, _int("SESSION_MAX_HOURS", _int("SESSION_HOURS", 8))) * 3600,
        # The cookie's expiry is not pushed back on every request: the server's limits decide.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "TRUSTED_PROXY_HOPS": trusted_proxy_hops(),
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "FRAME_ANCESTORS": frame_ancestors,
        # The portal's public address: the first-administrator link and the HTTPS redirect use it.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").strip() or None,
        # Secure cookies need HTTPS; the sandbox is often tried on plain http://127.0.0.1.
        "SESSION_COOKIE_SECURE": flag("SESSION_COOKIE_SECURE", production) or bool(frame_ancestors),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "None" if frame_ancestors else "Lax",
        "SESSION_COOKIE_PARTITIONED": bool(frame_ancestors),
        # Plain HTTP is redirected to HTTPS wherever secure cookies are the default: with a real vendor,
        # not in sandbox mode or with a stand-in vendor on loopback (tried on http://127.0.0.1).
        # Outside sandbox mode plain HTTP is redirected (security.redirect_to_https says where not).
        "FORCE_HTTPS": flag("FORCE_HTTPS", not sandbox),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        # Redis down must not lock staff out: count in this process's memory until it answers again.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATE_LIMIT_LOGIN": os.environ.get("RATE_LIMIT_LOGIN", "10 per minute"),
        "RATE_LIMIT_ENROL": os.environ.get("RATE_LIMIT_ENROL", "30 per minute"),
        "RATE_LIMIT_SEARCH": os.environ.get("RATE_LIMIT_SEARCH", "60 per minute"),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 16) * 1024 * 1024,
        # Text fields of a form together, and the number of fields and files in one form.
        "MAX_FORM_MEMORY_SIZE": max(1, _int("FORM_MAX_TEXT_KB", 500)) * 1024,
        "MAX_FORM_PARTS": max(10, _int("FORM_MAX_PARTS", 1000)),
        # Pixels: the most one picture may decode to (a large JPEG decodes at a reduced scale first), and
        # the most one process decodes at once; a decode waits this long for room, then staff retry.
        "PICTURE_MAX_PIXELS": max(1, _int("PICTURE_MAX_MEGAPIXELS", 50)) * 1_000_000,
        "PICTURE_DECODE_BUDGET": max(1, _int("PICTURE_DECODE_BUDGET_MEGAPIXELS", 50)) * 1_000_000,
        "PICTURE_DECODE_WAIT_SECONDS": max(1, _int("PICTURE_DECODE_WAIT_SECONDS", 20)),
        "ADVANCE_BASE_URL": vendor_base_url(),
        "ADVANCE_ACCESS_KEY": os.environ.get("ADVANCE_ACCESS_KEY") or None,
        "ADVANCE_SECRET_KEY": os.environ.get("ADVANCE_SECRET_KEY") or None,
        "ADVANCE_ACCESS_TOKEN": os.environ.get("ADVANCE_ACCESS_TOKEN") or None,
        "ADVANCE_TOKEN_PERIOD": min(max(_int("ADVANCE_TOKEN_PERIOD", 3600), 60), 86400),
        "ADVANCE_CONNECT_TIMEOUT": _int("ADVANCE_CONNECT_TIMEOUT", 5),
        "ADVANCE_READ_TIMEOUT": _int("ADVANCE_READ_TIMEOUT", 30),
        # Proxy and CA settings from the environment (HTTPS_PROXY, REQUESTS_CA_BUNDLE, ...) reach the
        # vendor client only when asked for: otherwise a stray variable could route faces elsewhere.
        "ADVANCE_USE_ENV_PROXY": flag("ADVANCE_USE_ENV_PROXY", False),
        "SANDBOX_MODE": sandbox,
        "DRAFT_MAX_AGE_HOURS": _int("DRAFT_MAX_AGE_HOURS", 24),
        # Thumbnails in the register of enrolments; KEEP_THUMBNAILS=0 keeps no picture at all.
        "KEEP_THUMBNAILS": flag("KEEP_THUMBNAILS", True),
        # ...and for this many days after the enrolment (0: as long as the register entry).
        "THUMBNAIL_KEEP_DAYS": max(0, _int("THUMBNAIL_KEEP_DAYS", 365)),
        # Default of the admin setting "prepare pictures" (rotate, convert, scale, strip metadata).
        "PREPARE_PICTURES": flag("PREPARE_PICTURES", True),
        # Where a search match carries its score: the vendor's docs do not name the field.
        "SCORE_FIELD": os.environ.get("SCORE_FIELD", "similarity"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Batch enrolment: who runs jobs, how many vendor calls each job keeps in flight, how
        # long a silent runner is trusted before another takes its job over, how often every
        # process looks for such jobs, and how big an upload may be.
        "BATCH_RUNNER": batch_runner(),
        "BATCH_QUEUE": os.environ.get("BATCH_QUEUE", "facesite-batch"),
        "BATCH_CONCURRENCY": max(1, _int("BATCH_CONCURRENCY", 4)),
        "BATCH_LEASE_SECONDS": max(3, _int("BATCH_LEASE_SECONDS", 30)),
        "BATCH_SWEEP_SECONDS": _int("BATCH_SWEEP_SECONDS", 5),
        "BATCH_MAX_ROWS": max(1, _int("BATCH_MAX_ROWS", 5000)),
        # Pictures and full ID numbers of a batch are kept this long after it finishes (for retries).
        "BATCH_KEEP_DAYS": max(0, _int("BATCH_KEEP_DAYS", 7)),
        "BATCH_MAX_UPLOAD_MB": max(1, _int("BATCH_MAX_UPLOAD_MB", 1024)),
        **{name: max(1, _int(name, default)) for name, default in BATCH_UPLOAD_LIMITS.items()},
        **{name: max(0, _int(name, default)) for name, default in BATCH_KEEP_UNFINISHED_DAYS.items()},
    }
