"""Who a request's ``Authorization`` header names: HTTP Basic or Bearer tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict

from ondemand.accounts import Account, AccountFile, dummy_account
from ondemand.errors import AuthenticationFailed, AuthenticationRequired, LoginThrottled
from ondemand.throttle import FailureThrottle, LoginThrottle
from ondemand.tokens import TokenStore

BASIC_CACHE_SECONDS = 300.0
"""How long a verified Basic credential is remembered (scrypt is slow on purpose)."""


class Authenticator:
    """Turns an ``Authorization`` header into a user id."""

    def __init__(self, accounts: AccountFile, tokens: TokenStore,
                 throttle: LoginThrottle | None = None) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.throttle: LoginThrottle = throttle or FailureThrottle(10, 300.0)
        self._lock = threading.Lock()
        self._loaded: tuple[float, dict[str, Account]] = (-1.0, {})
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def _accounts(self) -> dict[str, Account]:
        """The accounts, re-read when the users file changes (users can be removed live)."""
        try:
            mtime = self.accounts.path.stat().st_mtime
        except FileNotFoundError:
            mtime = 0.0
        with self._lock:
            if mtime != self._loaded[0]:
                self._loaded = (mtime, self.accounts.load())
                self._verified.clear()
            return self._loaded[1]

    def exists(self, user_id: str) -> bool:
        """Whether ``user_id`` has an account now (removing one takes effect at once)."""
        return user_id in self._accounts()

    def user(self, authorization: str | None, client: str = "") -> str:
        """The authenticated user; AuthenticationRequired or AuthenticationFailed otherwise."""
        if not authorization:
            raise AuthenticationRequired(
                "Authentication required: send HTTP Basic credentials or "
                "'Authorization: Bearer <token>' from GET /auth/login"
            )
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            found = self.tokens.lookup(value.strip())
            account = None if found is None else self._accounts().get(found[0])
            if found is None or account is None:
                raise AuthenticationFailed("Authorization token invalid or expired")
            if found[1] < account.changed:
                raise AuthenticationFailed(
                    "Authorization token revoked by a password change; log in again"
                )
            return found[0]
        if scheme.lower() == "basic":
            return self.basic(value.strip(), client)
        raise AuthenticationFailed(f"Invalid authentication scheme {scheme!r}: use Basic or Bearer")

    def basic(self, encoded: str, client: str = "") -> str:
        """Verify HTTP Basic credentials (remembered for a few minutes once verified).

        Failures are counted per client address and per user name; over the limit the
        answer is LoginThrottled (429) before any hash is computed. Unknown names are
        checked against a dummy account, so they cost (and take) what known ones do.
        """
        try:
            name, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Malformed Basic credentials") from None
        accounts = self._accounts()
        key = hashlib.sha256(encoded.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._verified.get(key)
            if hit is not None and hit[1] > now and hit[0] in accounts:
                return hit[0]
        keys = (f"address:{client}", f"user:{name}")
        wait = self.throttle.retry_after(keys)
        if wait:
            raise LoginThrottled(
                f"Too many failed logins; try again in {wait} seconds", retry_after=wait
            )
        account = accounts.get(name)
        correct = (account or dummy_account()).verify(password)
        if not sep or account is None or not correct:
            self.throttle.failed(keys)
            raise AuthenticationFailed("Credentials are not correct")
        self.throttle.succeeded(keys)
        with self._lock:
            self._verified[key] = (name, now + BASIC_CACHE_SECONDS)
            while len(self._verified) > 1024:
                self._verified.popitem(last=False)
        return name
