"""Bearer tokens: random, stored only as SHA-256 digests, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id);
"""


def _digest(token: str) -> str:
    """The stored form of a token: a leaked database gives no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Tokens of all users in one SQLite file, shared by the server's processes."""

    def __init__(self, path: Path, ttl_seconds: float) -> None:
        self.path = path
        self.ttl = ttl_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._db()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()

    def _db(self) -> sqlite3.Connection:
        """A connection used as a transaction context (commit on success)."""
        db = sqlite3.connect(self.path, timeout=30.0)
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def issue(self, user_id: str) -> tuple[str, float]:
        """A new token for ``user_id`` and its expiry (epoch seconds)."""
        token = secrets.token_urlsafe(32)
        expires = time.time() + self.ttl
        db = self._db()
        try:
            with db:
                db.execute("DELETE FROM tokens WHERE expires < ?", (time.time(),))
                db.execute(
                    "INSERT INTO tokens (digest, user_id, expires) VALUES (?, ?, ?)",
                    (_digest(token), user_id, expires),
                )
        finally:
            db.close()
        return token, expires

    def user_of(self, token: str) -> str | None:
        """The user a live token belongs to; None for unknown, expired or revoked tokens."""
        db = self._db()
        try:
            row = db.execute(
                "SELECT user_id, expires FROM tokens WHERE digest = ?", (_digest(token),)
            ).fetchone()
        finally:
            db.close()
        if row is None or row[1] < time.time():
            return None
        return str(row[0])

    def revoke(self, token: str) -> None:
        """Make a token invalid now."""
        db = self._db()
        try:
            with db:
                db.execute("DELETE FROM tokens WHERE digest = ?", (_digest(token),))
        finally:
            db.close()

    def revoke_user(self, user_id: str) -> None:
        """Make every token of a user invalid (e.g. when the user is removed)."""
        db = self._db()
        try:
            with db:
                db.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        finally:
            db.close()
