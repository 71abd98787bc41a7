"""Every setting the portal reads from its environment, parsed in one place into a frozen ``Settings``.

``Settings.from_env(os.environ)`` in a process, ``Settings.for_tests(...)`` in tests (a dict, never the real
environment). Each field's upper-cased name is its ``app.config`` key (Flask and its extensions read those);
fields marked ``PROCESS`` are about this process, not app.config. Settings administrators change at run
time live in the database instead (facesite/runtime_settings.py).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from flask import Flask, current_app

from facesite import rate_limit_counts
from facesite.environment import (batch_runner, check_secret_key_length, check_sign_on,  # noqa: F401 (tests use them)
                                  database_url, flag, has_vendor_credentials, is_production, kept_secret_key,
                                  log_format, metrics_token, mfa_required_roles, names, number, openid_connect,
                                  trusted_proxy_hops, vendor_base_url, whole)
from facesite.i18n_settings import default_locale, default_timezone
from facesite.serving import MB, ServingLimits

# The register's ID-number look-up key, when ID_NUMBER_KEY is not set, is derived from SECRET_KEY for this purpose.
LOOKUP_PURPOSE = b"facesite: ID number look-up"


def derived_key(secret: str, purpose: bytes) -> str:
    """A key for one purpose made from the portal's secret key (hex): distinct purposes, unrelated keys."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).hexdigest()


PROCESS = {"app_config": False}  # a field that is no app.config key


BATCH_UPLOAD_LIMITS = {"BATCH_MAX_ZIP_MEMBERS": 10_000, "BATCH_MAX_UNCOMPRESSED_MB": 2048,
                       "BATCH_MAX_COMPRESSION_RATIO": 100, "BATCH_MAX_PICTURE_MB": 50, "BATCH_MAX_MANIFEST_MB": 20,
                       "BATCH_MAX_STORED_MB": 1024, "BATCH_QUOTA_MB": 2048}
# Days a batch job that never finishes keeps its pictures, stored upload and full ID numbers: not started
# (from its upload), paused (from its pause), queued or running without a row finishing (from the last).
BATCH_KEEP_UNFINISHED_DAYS = {"BATCH_KEEP_UNSTARTED_DAYS": 7, "BATCH_KEEP_PAUSED_DAYS": 14,
                              "BATCH_KEEP_STALLED_DAYS": 7}


@dataclass(frozen=True)
class Settings:
    """The portal's settings (README, "Configuration"; .env.example). Comments say why where the name cannot."""

    secret_key: str | None  # None until create_app: then SECRET_KEY, else one kept in the instance folder
    sqlalchemy_database_uri: str | None  # None until create_app: then DATABASE_URL, else SQLite there
    # Connections are held only between vendor calls (see AuditTrail.started), so a small
    # pool serves many threads; size it for PostgreSQL's connection limit across processes.
    sqlalchemy_engine_options: dict
    auth_mode: str
    auth_header: str
    auth_proxy_secret: str | None
    auth_default_role: str
    # Header sign-on: roles from the proxy's group header, an allow-list of groups, and the
    # break-glass switch that lets local passwords in beside the proxy (off: the proxy alone).
    auth_groups_header: str | None
    auth_role_groups: dict
    auth_allowed_groups: frozenset
    auth_break_glass: bool
    # Roles whose password accounts must have a second factor (TOTP) before any page opens; empty: nobody.
    mfa_required_roles: frozenset
    # A session ends after this long without a request, and this long after sign-in whatever happens.
    session_idle_minutes: int
    session_max_hours: int
    permanent_session_lifetime: int
    trusted_proxy_hops: int
    login_max_failures: int
    login_lock_minutes: int
    password_reset_link_hours: int  # an administrator's one-time reset link works this long (1 to 168)
    frame_ancestors: list
    # The portal's public address: the one-time links and the HTTPS redirect use it.
    public_url: str | None
    # Secure cookies need HTTPS; the sandbox is often tried on plain http://127.0.0.1.
    session_cookie_secure: bool
    session_cookie_samesite: str
    session_cookie_partitioned: bool
    # Plain HTTP is redirected to HTTPS outside sandbox mode (security.redirect_to_https says where not).
    force_https: bool
    ratelimit_storage_uri: str
    rate_limit_login: str
    rate_limit_enrol: str
    rate_limit_search: str
    max_content_length: int
    # Text fields of a form together, and the number of fields and files in one form.
    max_form_memory_size: int
    max_form_parts: int
    # Pixels: the most one picture may decode to (a large JPEG decodes at a reduced scale first), and
    # the most one process decodes at once; a decode waits this long for room, then staff retry.
    picture_max_pixels: int
    picture_decode_budget: int
    picture_decode_wait_seconds: int
    advance_base_url: str | None  # None: the portal starts its own sandbox
    advance_access_key: str | None
    advance_secret_key: str | None
    advance_access_token: str | None
    advance_token_period: int
    advance_connect_timeout: int
    advance_read_timeout: int
    # Proxy and CA settings from the environment (HTTPS_PROXY, REQUESTS_CA_BUNDLE, ...) reach the
    # vendor client only when asked for: otherwise a stray variable could route faces elsewhere.
    advance_use_env_proxy: bool
    sandbox_mode: bool
    draft_max_age_hours: int
    # Thumbnails in the register of enrolments (False: no picture at all), for this many days (0: as long
    # as the register entry); the default of the admin setting "prepare pictures".
    keep_thumbnails: bool
    thumbnail_keep_days: int
    prepare_pictures: bool
    check_duplicates: bool  # the default of the admin setting "duplicate check ticked on the enrol form"
    score_field: str  # where a search match carries its score: the vendor's docs do not name the field
    # ID numbers (id_numbers.py): the key of the register's look-up hashes (None until create_app:
    # then ID_NUMBER_KEY, else derived from the secret key), how long the enrolling clerk sees hers in full,
    # and how often one person may look a number up.
    id_number_key: str | None
    id_number_shown_minutes: int
    rate_limit_id_lookup: str
    rate_limit_thumbnails: str  # per user: a register page shows up to 50; more is bulk copying
    # Face-set pickers list the catalogue in a drop-down up to this many entries, then become a type-ahead box.
    face_set_list_max: int
    log_level: str
    log_format: str  # text or json (log_format.py); every line carries the request id either way
    metrics_token: str | None  # opens /metrics from outside this machine (facesite/web/metrics.py)
    # Language and time zone for staff with no setting of their own (facesite/web/i18n.py; Flask-Babel reads these).
    babel_default_locale: str
    babel_default_timezone: str
    redis_url: str | None
    # Batch enrolment: who runs jobs, how many vendor calls each job keeps in flight, how long a silent
    # runner is trusted before another takes its job over, how often every process looks for such jobs,
    # how big an upload may be, and how long a job's pictures and full ID numbers are kept.
    batch_runner: str
    batch_queue: str
    batch_concurrency: int
    batch_lease_seconds: int
    batch_sweep_seconds: int
    batch_max_rows: int
    batch_keep_days: int
    batch_max_upload_mb: int
    batch_max_zip_members: int
    batch_max_uncompressed_mb: int
    batch_max_compression_ratio: int
    batch_max_picture_mb: int
    batch_max_manifest_mb: int
    batch_max_stored_mb: int
    batch_quota_mb: int  # the stored ZIPs of one person's jobs not started yet, together
    batch_keep_unstarted_days: int
    batch_keep_paused_days: int
    batch_keep_stalled_days: int
    # Redis down must not lock staff out: count in this process's memory until it answers again.
    ratelimit_in_memory_fallback_enabled: bool = True
    ratelimit_swallow_errors: bool = True
    # The cookie's expiry is not pushed back on every request: the server's limits decide.
    session_refresh_each_request: bool = False
    session_cookie_httponly: bool = True
    # OpenID Connect sign-in (AUTH_MODE=oidc): the provider, the portal's client there, who gets which role.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    oidc_role_claim: str = "groups"
    oidc_role_groups: dict = field(default_factory=dict)
    oidc_allowed_domain: str | None = None
    # Where the portal's files live (SQLite database, sandbox data, secret key); None: ./instance.
    instance_path: str | None = field(default=None, metadata=PROCESS)
    # False where something else migrates: gunicorn's master for its workers, or a Procfile release: line.
    migrate_on_start: bool = field(default=True, metadata=PROCESS)
    port: str = field(default="5000", metadata=PROCESS)  # the first-administrator link without PUBLIC_URL
    script_name: str = field(default="", metadata=PROCESS)  # the path gunicorn serves under (the same link)
    # app.config keys no setting stands for (Flask's own, such as TESTING): set last, as given.
    other_config: dict = field(default_factory=dict, metadata=PROCESS)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        production = is_production(env)
        if production and not env.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set when the portal talks to the real vendor "
                               "(it signs sessions and CSRF tokens; use a long random value)")
        sandbox = not has_vendor_credentials(env)
        check_secret_key_length(env, sandbox)
        auth_mode = check_sign_on(env)
        frame_ancestors = env.get("FRAME_ANCESTORS", "").split()
        session_max_hours = max(1, whole(env, "SESSION_MAX_HOURS", whole(env, "SESSION_HOURS", 8)))
        # SQLite (the default): a connection is an open file, so every request thread may hold one; with
        # fewer, a rush left threads waiting 30 s for a connection and answering 500 (issue 14).
        # A database server counts its connections: 10 (+20) per process, as before.
        threads = ServingSettings.from_env(env).threads
        pool_size = whole(env, "DB_POOL_SIZE", threads if database_url(env) is None else 10)
        return cls(
            secret_key=env.get("SECRET_KEY") or None,
            sqlalchemy_database_uri=database_url(env),
            sqlalchemy_engine_options={"pool_pre_ping": True, "pool_size": pool_size,
                                       "max_overflow": whole(env, "DB_POOL_OVERFLOW", 20)},
            auth_mode=auth_mode,
            auth_header=env.get("AUTH_HEADER", "X-Forwarded-Email"),
            auth_proxy_secret=env.get("AUTH_PROXY_SECRET") or None,
            auth_default_role=env.get("AUTH_DEFAULT_ROLE", "viewer"),
            auth_groups_header=env.get("AUTH_GROUPS_HEADER", "").strip() or None,
            auth_role_groups={role: names(env, f"AUTH_{role.upper()}_GROUPS") for role in ("viewer", "operator", "admin")},
            auth_allowed_groups=names(env, "AUTH_ALLOWED_GROUPS"),
            auth_break_glass=flag(env, "AUTH_BREAK_GLASS", False),
            mfa_required_roles=mfa_required_roles(env),
            session_idle_minutes=max(1, whole(env, "SESSION_IDLE_MINUTES", 30)),
            session_max_hours=session_max_hours,
            permanent_session_lifetime=session_max_hours * 3600,
            trusted_proxy_hops=trusted_proxy_hops(env),
            login_max_failures=whole(env, "LOGIN_MAX_FAILURES", 5),
            login_lock_minutes=whole(env, "LOGIN_LOCK_MINUTES", 15),
            password_reset_link_hours=min(max(whole(env, "PASSWORD_RESET_LINK_HOURS", 24), 1), 168),
            frame_ancestors=frame_ancestors,
            public_url=env.get("PUBLIC_URL", "").strip() or None,
            session_cookie_secure=flag(env, "SESSION_COOKIE_SECURE", production) or bool(frame_ancestors),
            session_cookie_samesite="None" if frame_ancestors else "Lax",
            session_cookie_partitioned=bool(frame_ancestors),
            force_https=flag(env, "FORCE_HTTPS", not sandbox),
            # Without Redis, a file in the instance folder that every process of this machine counts in.
            ratelimit_storage_uri=env.get("REDIS_URL") or "",
            rate_limit_login=env.get("RATE_LIMIT_LOGIN", "10 per minute"),
            rate_limit_enrol=env.get("RATE_LIMIT_ENROL", "30 per minute"),
            rate_limit_search=env.get("RATE_LIMIT_SEARCH", "60 per minute"),
            max_content_length=whole(env, "MAX_UPLOAD_MB", 16) * 1024 * 1024,
            max_form_memory_size=max(1, whole(env, "FORM_MAX_TEXT_KB", 500)) * 1024,
            max_form_parts=max(10, whole(env, "FORM_MAX_PARTS", 1000)),
            picture_max_pixels=max(1, whole(env, "PICTURE_MAX_MEGAPIXELS", 50)) * 1_000_000,
            picture_decode_budget=max(1, whole(env, "PICTURE_DECODE_BUDGET_MEGAPIXELS", 50)) * 1_000_000,
            picture_decode_wait_seconds=max(1, whole(env, "PICTURE_DECODE_WAIT_SECONDS", 20)),
            advance_base_url=vendor_base_url(env),
            advance_access_key=env.get("ADVANCE_ACCESS_KEY") or None,
            advance_secret_key=env.get("ADVANCE_SECRET_KEY") or None,
            advance_access_token=env.get("ADVANCE_ACCESS_TOKEN") or None,
            advance_token_period=min(max(whole(env, "ADVANCE_TOKEN_PERIOD", 3600), 60), 86400),
            advance_connect_timeout=whole(env, "ADVANCE_CONNECT_TIMEOUT", 5),
            advance_read_timeout=whole(env, "ADVANCE_READ_TIMEOUT", 30),
            advance_use_env_proxy=flag(env, "ADVANCE_USE_ENV_PROXY", False),
            sandbox_mode=sandbox,
            draft_max_age_hours=whole(env, "DRAFT_MAX_AGE_HOURS", 24),
            keep_thumbnails=flag(env, "KEEP_THUMBNAILS", True),
            thumbnail_keep_days=max(0, whole(env, "THUMBNAIL_KEEP_DAYS", 365)),
            prepare_pictures=flag(env, "PREPARE_PICTURES", True),
            check_duplicates=flag(env, "CHECK_DUPLICATES", True),
            score_field=env.get("SCORE_FIELD", "similarity"),
            id_number_key=env.get("ID_NUMBER_KEY") or None,
            id_number_shown_minutes=max(0, whole(env, "ID_NUMBER_SHOWN_MINUTES", 10)),
            rate_limit_id_lookup=env.get("RATE_LIMIT_ID_LOOKUP", "30 per minute"),
            rate_limit_thumbnails=env.get("RATE_LIMIT_THUMBNAILS", "300 per minute"),
            face_set_list_max=max(0, whole(env, "FACE_SET_LIST_MAX", 50)),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            log_format=log_format(env),
            metrics_token=metrics_token(env),
            babel_default_locale=default_locale(env),
            babel_default_timezone=default_timezone(env),
            redis_url=env.get("REDIS_URL") or None,
            batch_runner=batch_runner(env),
            batch_queue=env.get("BATCH_QUEUE", "facesite-batch"),
            batch_concurrency=max(1, whole(env, "BATCH_CONCURRENCY", 4)),
            batch_lease_seconds=max(3, whole(env, "BATCH_LEASE_SECONDS", 30)),
            batch_sweep_seconds=whole(env, "BATCH_SWEEP_SECONDS", 5),
            batch_max_rows=max(1, whole(env, "BATCH_MAX_ROWS", 5000)),
            batch_keep_days=max(0, whole(env, "BATCH_KEEP_DAYS", 7)),
            batch_max_upload_mb=max(1, whole(env, "BATCH_MAX_UPLOAD_MB", 1024)),
            **{name.lower(): max(1, whole(env, name, default)) for name, default in BATCH_UPLOAD_LIMITS.items()},
            **{name.lower(): max(0, whole(env, name, default)) for name, default in BATCH_KEEP_UNFINISHED_DAYS.items()},
            instance_path=env.get("INSTANCE_PATH") or None,
            migrate_on_start=flag(env, "MIGRATE_ON_START", True),
            port=env.get("PORT", "5000"),
            script_name=env.get("SCRIPT_NAME", "").strip().rstrip("/"),
            **openid_connect(env),
        )

    @classmethod
    def for_tests(cls, instance_path: str | None, env: Mapping[str, str] | None = None, **config) -> Settings:
        """Settings for a test portal: ``env`` as a process's environment would hold them (read from this
        dict only), then app.config keys set directly (``BATCH_SWEEP_SECONDS=0``)."""
        settings = cls.from_env({"INSTANCE_PATH": instance_path, **(env or {})})
        return settings.overridden(**{"TESTING": True, **config})

    def overridden(self, **config) -> Settings:
        """These settings with some set directly, named by their app.config keys."""
        own = {f.name for f in fields(self) if f.metadata.get("app_config", True)}
        return replace(self, **{key.lower(): value for key, value in config.items() if key.lower() in own},
                       other_config={**self.other_config, **{k: v for k, v in config.items() if k.lower() not in own}})

    def in_instance_folder(self, instance_path: str) -> Settings:
        """With the secret key and the database that default to files in the instance folder filled in."""
        secret_key = self.secret_key or kept_secret_key(instance_path)
        return replace(self, instance_path=instance_path, secret_key=secret_key,
                       id_number_key=self.id_number_key or derived_key(secret_key, LOOKUP_PURPOSE),
                       sqlalchemy_database_uri=self.sqlalchemy_database_uri
                       or "sqlite:///" + os.path.join(instance_path, "facesite.sqlite3"),
                       ratelimit_storage_uri=self.ratelimit_storage_uri
                       or rate_limit_counts.uri_for(os.path.join(instance_path, "rate-limits.sqlite3")))

    def app_config(self) -> dict:
        """The app.config keys Flask, its extensions and the portal read."""
        own = {f.name.upper(): getattr(self, f.name) for f in fields(self) if f.metadata.get("app_config", True)}
        return {**own, **self.other_config}


@dataclass(frozen=True)
class ServingSettings:
    """The Procfile's web server (gunicorn.conf.py): where it listens, how many processes and threads,
    its timeouts, and the bounds slow or stalled clients live within (facesite/serving)."""

    bind: str
    workers: int
    threads: int
    timeout: int  # longer than ADVANCE_READ_TIMEOUT: a slow vendor ends in the portal's page, not a kill
    keepalive: int
    worker_connections: int
    forwarded_allow_ips: str
    limits: ServingLimits

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServingSettings:
        # By default the largest body is the largest upload the portal itself accepts (a batch), so
        # anything it would refuse anyway is refused before it is read.
        largest_upload_mb = max(whole(env, "MAX_UPLOAD_MB", 16), whole(env, "BATCH_MAX_UPLOAD_MB", 1024))
        return cls(
            bind=f"{env.get('HOST', '0.0.0.0')}:{env.get('PORT', '5000')}",
            workers=whole(env, "WEB_CONCURRENCY", 2),
            threads=whole(env, "GUNICORN_THREADS", 50),
            timeout=whole(env, "GUNICORN_TIMEOUT", 90),
            keepalive=whole(env, "SERVER_KEEPALIVE", 5),
            worker_connections=whole(env, "SERVER_MAX_CONNECTIONS", 1000),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            limits=ServingLimits(
                header_timeout=number(env, "SERVER_HEADER_TIMEOUT", 10),
                body_timeout=number(env, "SERVER_BODY_TIMEOUT", 30),
                body_min_rate=max(1, int(number(env, "SERVER_BODY_MIN_RATE_KB", 10) * 1024)),
                max_header_bytes=whole(env, "SERVER_MAX_HEADER_KB", 32) * 1024,
                max_body_bytes=whole(env, "SERVER_MAX_BODY_MB", largest_upload_mb) * MB,
                max_buffered_bytes=whole(env, "SERVER_BUFFER_MB", 2 * largest_upload_mb) * MB,
                send_timeout=number(env, "SERVER_SEND_TIMEOUT", 60),
                single_headers=frozenset(name.strip().lower() for name in (
                    "X-Proxy-Secret", env.get("AUTH_HEADER", "X-Forwarded-Email"), env.get("AUTH_GROUPS_HEADER", ""))
                    if name.strip()),
                mount_path=env.get("SCRIPT_NAME", "").strip().rstrip("/"),
            ),
        )


@dataclass
class ServerMaster:
    """What gunicorn's master process found before it forked its workers (gunicorn.conf.py, on_starting):
    the workers inherit this object with the rest of the master's memory."""

    sandbox_url: str | None = None  # the one embedded sandbox the master started for every worker
    database_ready: bool = False  # the master has migrated: the workers must not


SERVER_MASTER = ServerMaster()


def from_process() -> Settings:
    """This process's settings: its environment, and what gunicorn's master found for it, if anything."""
    settings = Settings.from_env(os.environ)
    if SERVER_MASTER.sandbox_url:
        settings = replace(settings, advance_base_url=SERVER_MASTER.sandbox_url)
    if SERVER_MASTER.database_ready:
        settings = replace(settings, migrate_on_start=False)
    return settings


def attach(app: Flask, settings: Settings) -> None:
    app.extensions["settings"] = settings
    app.config.from_mapping(settings.app_config())


def upstream_is(app: Flask, base_url: str) -> None:
    """The sandbox this process started (or found running) is ``app``'s upstream from now on."""
    attach(app, replace(settings(app), advance_base_url=base_url))


def settings(app: Flask | None = None) -> Settings:
    """The settings ``app`` (default: the current app) was created with."""
    return (app or current_app).extensions["settings"]
