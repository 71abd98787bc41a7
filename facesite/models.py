"""What the portal stores itself: staff accounts, one-time links, and the audit trail."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import String, Text, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash

from facesite.extensions import db

# Each role can do everything the ones before it can.
ROLES = ("viewer", "operator", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def epoch(moment: datetime) -> float:
    """Unix time of a naive UTC datetime, as the database keeps them."""
    return moment.replace(tzinfo=timezone.utc).timestamp()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (db.UniqueConstraint("identity_issuer", "identity_subject", name="uq_users_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: signs in through the proxy only
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    source: Mapped[str] = mapped_column(String(16), default="local")  # local, header or oidc
    # OpenID Connect accounts are found by who the provider says they are (issuer and subject), never by name.
    identity_issuer: Mapped[str | None] = mapped_column(String(255))
    identity_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # No longer read or written: sign-in attempts are counted in sign_in_throttle (access/throttle.py).
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]  # set: the account may not sign in and its sessions end
    # The person's own language and time zone (facesite/web/i18n.py); None: the browser's, then the defaults.
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The face set this person last chose on a form: the next enrol, search or batch form starts with it.
    last_face_set_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def is_active(self) -> bool:  # flask_login refuses inactive users, both at sign-in and per request
        return self.disabled_at is None

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def signs_in(self) -> str:
        """How the account signs in, as the Users pages say it."""
        return {"local": _l("with a password"), "header": _l("through the identity proxy"),
                "oidc": _l("through the company sign-in (OpenID Connect)")}.get(self.source, self.source)



class SecurityEvent(db.Model):
    """One security-relevant action: a sign-in, an account or setting change, an export.

    Usernames are kept as text, so an account's history stays readable after it is removed.
    """

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class OneTimeLink(db.Model):
    """A link that works once (access/links.py): the first administrator's ("setup"), or one account's
    password reset ("reset", made by ``made_by``). Only the hash of its secret part is kept."""

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16), default="setup", server_default="setup")
    user_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    made_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class VendorCall(db.Model):
    """One call to the vendor: written before it is sent, completed when it ends.

    A row with no ``finished_at`` is a call whose process died mid-way. Never the
    picture, the token, or a full ID number.
    """

    __tablename__ = "vendor_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    username: Mapped[str | None] = mapped_column(String(254), index=True)
    call: Mapped[str] = mapped_column(String(16))  # token, add_face, search
    face_set_id: Mapped[str | None] = mapped_column(String(128), index=True)
    external_reference_id: Mapped[str | None] = mapped_column(String(255))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    outcome_code: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome_message: Mapped[str | None] = mapped_column(Text)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    pricing_strategy: Mapped[str | None] = mapped_column(String(8))
    http_status: Mapped[int | None]
    latency_ms: Mapped[int | None]
    # The request's id (X-Request-Id, shown on the error page and in every log line), or a batch row's.
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)


class FaceSet(db.Model):
    """The portal's catalogue: the vendor's face sets staff may use, with a label people recognise."""

    __tablename__ = "face_sets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the vendor's faceSetId
    label: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    default_top_k: Mapped[int | None]
    default_threshold: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(254))


class Enrolment(db.Model):
    """The register: every face the portal enrolled. Never the original picture, never a full ID number (its
    look-up hash, and the number masked)."""

    __tablename__ = "enrolments"
    __table_args__ = (db.UniqueConstraint("face_set_id", "face_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    face_id: Mapped[str] = mapped_column(String(64))
    face_set_id: Mapped[str] = mapped_column(String(64), index=True)
    external_reference_id: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    id_card_type: Mapped[str | None] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    # HMAC-SHA256 of the number in its normal form under ID_NUMBER_KEY (id_numbers.py): finds it, never shows it.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    enrolled_by: Mapped[str | None] = mapped_column(String(254))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    thumbnail: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)  # small JPEG, or None


class Setting(db.Model):
    """Settings administrators change while the portal runs (key -> value as text)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(254))


class Draft(db.Model):
    """What a form keeps between requests (see drafts.py): a kept picture, a submission's claim or its outcome."""

    __tablename__ = "drafts"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)  # "picture:<id>", "claim:<id>", "outcome:<id>"
    media_type: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    owner: Mapped[str | None] = mapped_column(String(254), index=True)  # username of whoever sent the form


class BatchJob(db.Model):
    """A batch enrolment: one uploaded ZIP (and manifest), sent row by row in the background.

    States: uploading (the ZIP stored in ``BatchUploadChunk`` rows and the rows planned from its list
    of files, within the request) → checking (in the background: each picture the rows name read from
    the stored ZIP, checked and copied once into ``BatchPicture``) →
    review (not started; a correction of rows checks them again, against the stored ZIP) → queued (the
    stored ZIP is deleted) → running → finished; paused while queued or running.
    A runner holds the job by its lease (``lease_owner`` until ``lease_until``) and renews it
    while it works; a lease that ran out means the runner died, and another takes the job over.
    Pictures, the stored ZIP and full ID numbers are purged after a time set per state (batch/retention.py).
    """

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(254))
    started_by: Mapped[str | None] = mapped_column(String(254))  # who last started, resumed or retried it
    archive_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="uploading", index=True)
    note: Mapped[str | None] = mapped_column(Text)  # why the job paused or waits, for staff
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    wait_until: Mapped[datetime | None]  # the vendor asked to wait (SERVICE_BUSY) until then
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]  # last handed to the queue (RQ mode)
    paused_at: Mapped[datetime | None]  # when it last paused: how long a paused job keeps its pictures
    archive_size: Mapped[int | None] = mapped_column(db.BigInteger)  # bytes of the stored ZIP, while kept
    face_set_id: Mapped[str | None] = mapped_column(String(64))  # the upload form's face set (rows without one)
    run_seconds: Mapped[float | None]  # time really sending (the rate's measure): runs ended, and the one
    run_started: Mapped[float | None]  # under way since this Unix time (lifecycle.take_over, hand_back)
    # Search the face set before each row (charged); a row like someone enrolled is held (batch/row_checks.py).
    check_duplicates: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class BatchRow(db.Model):
    """One row of a batch: the fields to send, then what happened.

    States: unchecked (picture not yet decoded) → pending → sending → done | failed | unknown;
    skipped when the upload check refused it. ``unknown``: the call may have reached the vendor but no answer came back,
    so a person must check before it is sent again. The picture is a ``BatchPicture`` (``picture_id``),
    shared by every row of the job that names the same file in the ZIP; a row lets go of it (and of its
    full ID number) once enrolled or skipped, and the picture is deleted when no row needs it any more.
    """

    __tablename__ = "batch_rows"
    __table_args__ = (db.Index("ix_batch_rows_job_state", "job_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(db.ForeignKey("batch_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int]  # as a spreadsheet numbers it (the header is row 1)
    file_name: Mapped[str] = mapped_column(String(255))
    face_set_id: Mapped[str | None] = mapped_column(String(64))
    external_reference_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(2))
    id_card_type: Mapped[str | None] = mapped_column(String(64))
    # The number as uploaded, sealed (id_numbers.seal_for_batch), never in clear: kept to send the row, and
    # while the job is under review to correct it; dropped once the row is sent or skipped for good.
    id_number: Mapped[str | None] = mapped_column(Text)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    face_id: Mapped[str | None] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    column: Mapped[str | None] = mapped_column(String(32))  # the manifest column a problem is about
    preparation: Mapped[str | None] = mapped_column(Text)
    register_id: Mapped[int | None]  # the register entry made when the face was enrolled
    match_register_id: Mapped[int | None]  # held as a likely duplicate: the register entry of the best match
    checked: Mapped[bool] = mapped_column(default=False, server_default=sa_false())  # see batch/row_checks.py
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    picture_id: Mapped[int | None] = mapped_column(db.ForeignKey("batch_pictures.id", ondelete="SET NULL"),
                                                   index=True)
    # As uploaded (JSON), for corrections; gone at start. Never the ID number: it is in id_number, sealed.
    cells: Mapped[str | None] = mapped_column(Text)


class BatchPicture(db.Model):
    """One picture of a batch job, copied once from the stored ZIP however many rows name it.

    ``data`` is None until the background check has read and accepted it (a refused picture is
    deleted and its rows skipped with the reason).
    """

    __tablename__ = "batch_pictures"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(db.ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True)
    member: Mapped[str] = mapped_column(Text)  # its name inside the ZIP
    size: Mapped[int | None]  # bytes of data, counted against BATCH_MAX_STORED_MB
    data: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)


class BatchUploadChunk(db.Model):
    """A batch upload's ZIP as it arrived, in pieces of about 1 MiB (see batch/archive.py), so that any
    process on any machine can read it back; deleted once its pictures are copied."""

    __tablename__ = "batch_upload_chunks"

    job_id: Mapped[int] = mapped_column(db.ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(db.LargeBinary)


class UserSession(db.Model):
    """One sign-in: the browser's cookie names it by a random token (only its hash is kept here), so a
    sign-out, a password or role change, or disabling the account ends it on the server, whatever cookie
    a browser still holds."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))
    # OpenID Connect: the provider's ID token, sent back as id_token_hint when the person signs out.
    id_token: Mapped[str | None] = mapped_column(db.Text)


class SignInThrottle(db.Model):
    """Sign-in attempts counted per key: an account name (hashed, whether or not such an account exists)
    or a browser that signed in before (see access/throttle.py)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class SecondFactor(db.Model):
    """A password account's second factor (access/second_factor.py): a TOTP secret, kept sealed (Fernet under a
    key derived from SECRET_KEY), never in clear. ``pending_sealed``: a new secret shown on the setup page and
    not yet confirmed with a code (purged after a day); ``last_step``: the 30-second step of the last code
    accepted, so no code works twice."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_sealed: Mapped[str | None] = mapped_column(Text)  # None: no factor on
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(db.BigInteger)
    pending_sealed: Mapped[str | None] = mapped_column(Text)
    pending_since: Mapped[datetime | None]


class RecoveryCode(db.Model):
    """One unused recovery code of an account (only its keyed hash); deleted when used or replaced."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
