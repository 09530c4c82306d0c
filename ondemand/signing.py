"""Short-lived signed URLs: read access to one service for a few minutes, no secret in them.

A browser map cannot send an ``Authorization`` header with every tile it loads, so an
owner-only service's tiles are reached with ``?exp=<epoch>&sig=<HMAC>`` appended. The
HMAC-SHA256 covers the service id, its owner and the expiry; its key is random, kept in
the job store's database (every server sharing it verifies what another signed) and
never leaves the server. A signature names nothing but the one service and expires after
``Settings.signed_url_ttl_seconds``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from .store import Database

KEY_NAME = "service-urls"


@dataclass(frozen=True)
class Signature:
    """The query parameters of a signed URL and when it stops working (epoch seconds)."""

    exp: int
    sig: str

    def query(self) -> str:
        """``exp=...&sig=...``, to append to a service URL."""
        return f"exp={self.exp}&sig={self.sig}"


class UrlSigner:
    """Signs and verifies service URLs with a key shared through the database."""

    def __init__(self, db: Database, ttl_seconds: float) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def _secret(self) -> bytes:
        """The signing key: read once, created by the first server that needs it."""
        with self._lock:
            if self._key is None:
                with self.db.transaction() as tx:
                    tx.lock("signing_keys")
                    row = tx.one("SELECT secret FROM signing_keys WHERE name = ?", (KEY_NAME,))
                    if row is None:
                        secret = secrets.token_hex(32)
                        tx.run(
                            "INSERT INTO signing_keys (name, secret) VALUES (?, ?)",
                            (KEY_NAME, secret),
                        )
                    else:
                        secret = str(row["secret"])
                self._key = bytes.fromhex(secret)
            return self._key

    def _mac(self, service_id: str, owner: str, exp: int) -> str:
        message = f"{service_id}\n{owner}\n{exp}".encode()
        return hmac.new(self._secret(), message, hashlib.sha256).hexdigest()

    def sign(self, service_id: str, owner: str, now: float | None = None) -> Signature:
        """A signature for ``owner``'s service, valid for the signer's TTL from ``now``."""
        exp = int((time.time() if now is None else now) + self.ttl)
        return Signature(exp, self._mac(service_id, owner, exp))

    def verify(
        self, service_id: str, owner: str, exp: str, sig: str, now: float | None = None
    ) -> bool:
        """Whether ``exp``/``sig`` (as sent) sign this service of ``owner`` and are unexpired."""
        if not (exp.isascii() and exp.isdigit() and len(exp) <= 12):
            return False
        expires = int(exp)
        if expires < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._mac(service_id, owner, expires), sig)
