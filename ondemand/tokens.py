"""Bearer tokens: random, stored only as SHA-256 digests, expiring, revocable.

They live in the job store's database (:mod:`ondemand.store`), so a token issued by one
server is accepted by every server sharing that database.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

from .store import Database
from .store.sqlite import SQLiteDatabase


def _digest(token: str) -> str:
    """The stored form of a token: a leaked database gives no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Tokens of all users, shared by every server process using the database."""

    def __init__(self, db: Database | Path, ttl_seconds: float) -> None:
        self.db: Database = SQLiteDatabase(db) if isinstance(db, Path) else db
        self.ttl = ttl_seconds

    def issue(self, user_id: str) -> tuple[str, float]:
        """A new token for ``user_id`` and its expiry (epoch seconds)."""
        token = secrets.token_urlsafe(32)
        expires = time.time() + self.ttl
        with self.db.transaction() as tx:
            tx.run("DELETE FROM tokens WHERE expires < ?", (time.time(),))
            tx.run(
                "INSERT INTO tokens (digest, user_id, expires) VALUES (?, ?, ?)",
                (_digest(token), user_id, expires),
            )
        return token, expires

    def user_of(self, token: str) -> str | None:
        """The user a live token belongs to; None for unknown, expired or revoked tokens."""
        found = self.lookup(token)
        return None if found is None else found[0]

    def lookup(self, token: str) -> tuple[str, float] | None:
        """The user of a live token and when it was issued (epoch seconds); None if dead."""
        with self.db.transaction() as tx:
            row = tx.one(
                "SELECT user_id, expires FROM tokens WHERE digest = ?", (_digest(token),)
            )
        if row is None or row["expires"] < time.time():
            return None
        return str(row["user_id"]), float(row["expires"]) - self.ttl

    def revoke(self, token: str) -> None:
        """Make a token invalid now."""
        with self.db.transaction() as tx:
            tx.run("DELETE FROM tokens WHERE digest = ?", (_digest(token),))

    def revoke_user(self, user_id: str) -> None:
        """Make every token of a user invalid (e.g. when the user is removed)."""
        with self.db.transaction() as tx:
            tx.run("DELETE FROM tokens WHERE user_id = ?", (user_id,))
