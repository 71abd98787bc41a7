"""Reading single environment variables for config.py: numbers, flags, lists, and the settings whose
value depends on others (the vendor's address, the database, the batch runner, sign-on)."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from facesite import owner_only
from facesite.advance import REGION_HOSTS, base_url_problem, is_loopback


def whole(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}") from None


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def names(env: Mapping[str, str], name: str) -> frozenset[str]:
    """A comma- or space-separated list setting, compared without case."""
    return frozenset(part.strip().lower() for part in env.get(name, "").replace(",", " ").split() if part.strip())


def log_format(env: Mapping[str, str]) -> str:
    """LOG_FORMAT: ``text`` or ``json``; a typo stops the start rather than change the format unnoticed."""
    value = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("text", "json"):
        raise RuntimeError(f"LOG_FORMAT must be text or json, not {value!r}")
    return value


METRICS_TOKEN_MIN_LENGTH = 16


def metrics_token(env: Mapping[str, str]) -> str | None:
    """METRICS_TOKEN: the bearer token that opens /metrics from outside this machine; long, as it is
    a password nobody types."""
    value = env.get("METRICS_TOKEN", "").strip() or None
    if value is not None and len(value) < METRICS_TOKEN_MIN_LENGTH:
        raise RuntimeError(f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters long")
    return value


def has_vendor_credentials(env: Mapping[str, str]) -> bool:
    return bool(env.get("ADVANCE_ACCESS_TOKEN") or (env.get("ADVANCE_ACCESS_KEY") and env.get("ADVANCE_SECRET_KEY")))


def vendor_base_url(env: Mapping[str, str]) -> str | None:
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


SECRET_KEY_MIN_LENGTH = 32


def check_secret_key_length(env: Mapping[str, str], sandbox: bool) -> None:
    """Outside sandbox mode SECRET_KEY also keys the ID-number look-up hashes and the sealed ID numbers:
    a short one could be guessed, and every number with it."""
    key = env.get("SECRET_KEY") or ""
    if key and not sandbox and len(key) < SECRET_KEY_MIN_LENGTH:
        raise RuntimeError(f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters long with vendor "
                           f"credentials (it signs sessions and keys the ID-number hashes and seals; it has "
                           f"{len(key)}): use a long random value, e.g. python -c 'import secrets; "
                           f"print(secrets.token_hex(32))'")


def is_production(env: Mapping[str, str]) -> bool:
    """Credentials for a vendor that is not on this machine. A sandbox, or a stand-in vendor on
    loopback (development, tests), is not production."""
    if not has_vendor_credentials(env):
        return False
    return not is_loopback(vendor_base_url(env) or "")


def database_url(env: Mapping[str, str]) -> str | None:
    """DATABASE_URL (Heroku's postgres:// form accepted); None means SQLite in the instance folder."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return None
    # SQLAlchemy 2.1 picks psycopg 3 for a bare postgresql:// URL; the portal ships psycopg2.
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url


def trusted_proxy_hops(env: Mapping[str, str]) -> int:
    """How many proxies in front of the portal add X-Forwarded-* headers that may be believed. 0 (trust
    none: a client could claim any address) unless set; 1 on Heroku, whose router documents that it
    appends the client's address (it sets DYNO in every process)."""
    value = env.get("TRUSTED_PROXY_HOPS", "").strip()
    if not value:
        return 1 if env.get("DYNO") else 0
    if not value.isdigit() or int(value) > 5:
        raise RuntimeError(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 5, not {value!r}")
    return int(value)


def batch_runner(env: Mapping[str, str]) -> str:
    """thread: batch jobs run inside the web processes; rq: in RQ workers (the default with REDIS_URL)."""
    runner = env.get("BATCH_RUNNER", "").strip().lower() or ("rq" if env.get("REDIS_URL") else "thread")
    if runner not in ("thread", "rq"):
        raise RuntimeError(f"BATCH_RUNNER must be thread or rq, not {runner!r}")
    if runner == "rq" and not env.get("REDIS_URL"):
        raise RuntimeError("BATCH_RUNNER=rq needs REDIS_URL (the queue lives in Redis)")
    return runner


def check_sign_on(env: Mapping[str, str]) -> str:
    """AUTH_MODE, refused where header sign-on would let anyone in."""
    auth_mode = env.get("AUTH_MODE", "builtin").strip().lower()
    if auth_mode not in ("builtin", "header", "oidc"):
        raise RuntimeError(f"AUTH_MODE must be builtin, header or oidc, not {auth_mode!r}")
    if auth_mode == "oidc":
        check_openid_connect(env)
    if auth_mode == "header" and not env.get("AUTH_PROXY_SECRET"):
        raise RuntimeError("AUTH_MODE=header needs AUTH_PROXY_SECRET, or anyone could claim any user")
    if auth_mode == "header" and not (env.get("AUTH_GROUPS_HEADER") or env.get("AUTH_DEFAULT_ROLE")):
        raise RuntimeError("AUTH_MODE=header needs AUTH_GROUPS_HEADER (roles from the proxy's groups) or an "
                           "explicit AUTH_DEFAULT_ROLE: otherwise everyone the proxy lets through would get in")
    if env.get("AUTH_DEFAULT_ROLE", "viewer") not in ("viewer", "operator", "admin"):
        raise RuntimeError("AUTH_DEFAULT_ROLE must be viewer, operator or admin")
    return auth_mode


OIDC_ROLES = ("viewer", "operator", "admin")


def check_openid_connect(env: Mapping[str, str]) -> None:
    """AUTH_MODE=oidc: a provider the portal can reach safely, its client, and groups that let anyone in."""
    missing = [name for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not env.get(name, "").strip()]
    if missing:
        raise RuntimeError(f"AUTH_MODE=oidc needs {', '.join(missing)}")
    issuer = env["OIDC_ISSUER"].strip()
    if not (issuer.startswith("https://") or (issuer.startswith("http://") and is_loopback(issuer))):
        # The ID token's keys are fetched from there: over plain http anyone on the way could sign people in.
        raise RuntimeError("OIDC_ISSUER must be an https:// address (http only for a provider on this machine)")
    if not any(names(env, f"OIDC_{role.upper()}_GROUPS") for role in OIDC_ROLES):
        raise RuntimeError("AUTH_MODE=oidc needs at least one of OIDC_ADMIN_GROUPS, OIDC_OPERATOR_GROUPS, "
                           "OIDC_VIEWER_GROUPS: only people in those groups are let in")


def openid_connect(env: Mapping[str, str]) -> dict:
    """The OIDC_* settings, as Settings fields (read whatever AUTH_MODE is; used only with oidc)."""
    domain = env.get("OIDC_ALLOWED_DOMAIN", "").strip().lower().lstrip("@")
    return {"oidc_issuer": env.get("OIDC_ISSUER", "").strip() or None,
            "oidc_client_id": env.get("OIDC_CLIENT_ID", "").strip() or None,
            "oidc_client_secret": env.get("OIDC_CLIENT_SECRET") or None,
            # openid is what makes it OpenID Connect (an ID token, a nonce): always asked for.
            "oidc_scopes": " ".join(dict.fromkeys(["openid", *(env.get("OIDC_SCOPES", "").split() or ["email", "profile"])])),
            "oidc_role_claim": env.get("OIDC_ROLE_CLAIM", "").strip() or "groups",
            "oidc_role_groups": {role: names(env, f"OIDC_{role.upper()}_GROUPS") for role in OIDC_ROLES},
            "oidc_allowed_domain": domain or None}


# What one batch upload may cost (each checked from the ZIP's own records before anything is stored; a
# refusal names its setting) and the disk its pictures may take once copied: setting -> default, at least 1.


def kept_secret_key(instance_path: str) -> str:
    """One secret key made once and kept in the instance folder, so every worker process (and a
    restart) signs sessions and CSRF tokens alike."""
    path = Path(instance_path) / "secret_key"
    try:
        fd = owner_only.new_file(path)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def mfa_required_roles(env: Mapping[str, str]) -> frozenset:
    """MFA_REQUIRED_ROLES: a comma list of roles (default admin); "none" (or nothing) turns the forcing off."""
    raw = env.get("MFA_REQUIRED_ROLES", "admin").strip().lower()
    roles = frozenset(role.strip() for role in raw.split(",") if role.strip()) - {"none"}
    unknown = roles - {"viewer", "operator", "admin"}
    if unknown:
        raise RuntimeError(f"MFA_REQUIRED_ROLES names no such role: {', '.join(sorted(unknown))} "
                           "(use viewer, operator, admin, or none)")
    return roles
