"""User accounts: a JSON file of names and salted scrypt password hashes.

``ondemand users add --file FILE NAME`` writes it; ``ondemand serve --users FILE``
reads it. Passwords are never stored, only ``scrypt(password, salt)``; checks
compare in constant time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ArgumentInvalid
from .text import without_paths

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""User names double as ``user_id`` in URLs and folder names: a safe, short alphabet."""

RESERVED_NAMES = frozenset({"me", "local"})
MIN_PASSWORD = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Account:
    """One user: name, salt and password hash (base64), when the password was set."""

    name: str
    salt: str
    hash: str
    changed: float = 0.0
    """Epoch seconds of the last password change: tokens issued before it are void."""

    def verify(self, password: str) -> bool:
        """Whether ``password`` is this user's, in constant time."""
        expected = base64.b64decode(self.hash)
        return hmac.compare_digest(_scrypt(password, base64.b64decode(self.salt)), expected)


@functools.lru_cache(maxsize=1)
def dummy_account() -> Account:
    """An account no password opens: unknown user names are checked against it, so they
    take as long as known ones and the time of an answer does not tell which exist."""
    salt = base64.b64encode(b"ondemand-dummy-salt").decode()
    return Account("", salt, base64.b64encode(secrets.token_bytes(32)).decode())


def _scrypt(password: str, salt: bytes) -> bytes:
    """The password's scrypt hash (about 16 MiB, tens of milliseconds)."""
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )


def new_account(name: str, password: str) -> Account:
    """An account with a fresh random salt; names and passwords are checked."""
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise ArgumentInvalid(
            f"Password does not meet the requirements: at least {MIN_PASSWORD} characters"
        )
    salt = secrets.token_bytes(16)
    return Account(
        name=name,
        salt=base64.b64encode(salt).decode(),
        hash=base64.b64encode(_scrypt(password, salt)).decode(),
        changed=time.time(),
    )


def check_name(name: str) -> None:
    """Refuse names that are unsafe in paths and URLs or reserved."""
    if not USER_NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise ArgumentInvalid(
            f"Invalid user name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            f"not {', '.join(sorted(RESERVED_NAMES))}"
        )


class AccountFile:
    """The users file: read fresh on each change, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Account]:
        """Every account by name (an absent file has none)."""
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text())
            return {u["name"]: Account(u["name"], u["salt"], u["hash"],
                                       float(u.get("changed", 0.0))) for u in raw["users"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise ArgumentInvalid(f"Users file {self.path.name} is damaged: "
                                  f"{without_paths(str(exc), str(self.path))}") from None

    def save(self, accounts: dict[str, Account]) -> None:
        """Write all accounts (temporary file + rename, owner-only permissions)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"users": [a.__dict__ for a in sorted(accounts.values(), key=lambda a: a.name)]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(body, out, indent=1)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, password: str) -> None:
        """Add a user or change an existing user's password."""
        accounts = self.load()
        accounts[name] = new_account(name, password)
        self.save(accounts)

    def remove(self, name: str) -> None:
        """Remove a user (ArgumentInvalid if absent)."""
        accounts = self.load()
        if name not in accounts:
            raise ArgumentInvalid(f"No user {name!r} in {self.path.name}")
        del accounts[name]
        self.save(accounts)
