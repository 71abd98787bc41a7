"""Flask extensions, created unbound here and bound to the app in create_app, and the database's second
engine for short transactions. The portal's own per-app objects live with their subsystems (the drafts
store in drafts.py, the batch scheduler in batch/scheduler.py), each reached through a typed function."""
from __future__ import annotations

import contextlib
import threading

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


csrf = CSRFProtect()
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
# Default key: the client's address (ProxyFix has already put the real one there).
limiter = Limiter(key_func=get_remote_address)
talisman = Talisman()

# The engine of the short transactions that commit on their own whatever the request does next
# (audit records, kept pictures and outcomes, sign-in sessions and limits, security events). Its own
# pool: a request thread holding the session's connection and waiting for a second one from the same
# pool deadlocked under load once every connection was held by such a thread (PostgreSQL, 256 staff).
SHORT_TRANSACTIONS = "short"
SHORT_POOL_SIZE = 5  # connections kept, and as many again at a peak


class ShortTransactions:
    """``begin()`` and ``connect()`` on the short transactions' engine. With SQLite the writes of one
    process take turns on a lock first: a database file has one writer at a time, and a hundred
    threads polling for it (SQLite's busy handler) let some wait past the busy timeout under a rush
    ("database is locked", an audit record left incomplete); queued here, only the processes poll."""

    def __init__(self, engine, one_writer_at_a_time: bool):
        self.engine = engine
        self._turn = threading.RLock() if one_writer_at_a_time else contextlib.nullcontext()

    @contextlib.contextmanager
    def begin(self):
        with self._turn, self.engine.begin() as connection:
            yield connection

    def connect(self):
        return self.engine.connect()  # reads: never wait for a writer in WAL mode


def init_short_transactions(app: Flask) -> None:
    with app.app_context():
        engine = db.engines[SHORT_TRANSACTIONS]
    app.extensions[SHORT_TRANSACTIONS] = ShortTransactions(engine, engine.dialect.name == "sqlite")


def short_transactions() -> ShortTransactions:
    """The short, self-committing transactions (see SHORT_TRANSACTIONS)."""
    return current_app.extensions[SHORT_TRANSACTIONS]

