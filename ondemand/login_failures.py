"""Failed logins counted in the store's database, so every server process sees every failure.

With ``ondemand serve --workers N``, or several servers sharing a PostgreSQL store, a
guesser's requests land on any process; counting in memory would allow N times the
limit. Counting where jobs and tokens live makes the limit hold for the whole
deployment. Only failures are written (at most one per password check, and password
checks are few at a time); a key over the limit is refused with a read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from .store import Database, Transaction


class SharedFailureThrottle:
    """At most ``max_failures`` failures per key within ``window_seconds``, across processes
    and servers (times from the database's clock unless ``clock`` is given)."""

    def __init__(self, db: Database, max_failures: int, window_seconds: float,
                 clock: Callable[[], float] | None = None) -> None:
        self.db = db
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock

    def _now(self, tx: Transaction) -> float:
        return self._clock() if self._clock is not None else tx.clock()

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again (0: they may now)."""
        wait = 0.0
        with self.db.transaction() as tx:
            now = self._now(tx)
            for key in keys:
                row = tx.one(
                    "SELECT failed_at FROM login_failures WHERE key = ? AND failed_at > ? "
                    "ORDER BY failed_at DESC LIMIT 1 OFFSET ?",
                    (key, now - self.window, self.max_failures - 1),
                )
                if row is not None:
                    wait = max(wait, float(row["failed_at"]) + self.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failure for each key (and forget failures older than the window)."""
        with self.db.transaction() as tx:
            now = self._now(tx)
            tx.run("DELETE FROM login_failures WHERE failed_at <= ?", (now - self.window,))
            tx.run_many("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)",
                        [(key, now) for key in keys])

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (a correct password was given)."""
        with self.db.transaction() as tx:
            tx.run_many("DELETE FROM login_failures WHERE key = ?", [(key,) for key in keys])
