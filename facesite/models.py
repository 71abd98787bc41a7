"""What the portal stores itself: staff accounts, the one-time setup link, and the audit trail."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from facesite.extensions import db

# Each role can do everything the ones before it can.
ROLES = ("viewer", "operator", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: signs in through the proxy only
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    source: Mapped[str] = mapped_column(String(16), default="local")  # local or header
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # werkzeug: scrypt, salted

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()


class SetupToken(db.Model):
    """The one-time link that creates the first administrator (only its hash is kept)."""

    __tablename__ = "setup_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
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
