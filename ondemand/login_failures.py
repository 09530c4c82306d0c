"""Failed logins counted in one SQLite file, so every server process sees every failure.

With ``ondemand serve --workers N`` a guesser's requests land on any process; counting
in memory would allow N times the limit. The file (``DATA_DIR/logins.sqlite``) is
disposable: one SQLite cannot read is moved aside at start and recreated.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .healing import exclusive, heal_disposable

SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at);
CREATE INDEX IF NOT EXISTS failures_at ON failures (at);
"""


class SharedFailureThrottle:
    """At most ``max_failures`` failures per key within ``window_seconds``, across processes."""

    def __init__(self, path: Path, max_failures: int, window_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        with exclusive(path):
            heal_disposable(path)
            db = self._db()
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
            finally:
                db.close()

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0)
        db.execute("PRAGMA synchronous=OFF")  # disposable: a crash may forget a few failures
        return db

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again (0: they may now)."""
        now = self._clock()
        wait = 0.0
        db = self._db()
        try:
            for key in keys:
                row = db.execute(
                    "SELECT at FROM failures WHERE key = ? AND at > ? ORDER BY at DESC "
                    "LIMIT 1 OFFSET ?", (key, now - self.window, self.max_failures - 1),
                ).fetchone()
                if row is not None:
                    wait = max(wait, row[0] + self.window - now)
        finally:
            db.close()
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failure for each key (and forget failures older than the window)."""
        now = self._clock()
        db = self._db()
        try:
            with db:
                db.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))
                db.executemany("INSERT INTO failures (key, at) VALUES (?, ?)",
                               [(key, now) for key in keys])
        finally:
            db.close()

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (a correct password was given)."""
        db = self._db()
        try:
            with db:
                db.executemany("DELETE FROM failures WHERE key = ?", [(key,) for key in keys])
        finally:
            db.close()
