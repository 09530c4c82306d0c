"""Failed-login counting: a sliding window per key (client address, user name).

Checked before any password hash is computed, so guessing costs the server nothing
once a key is over the limit; memory is bounded by forgetting the oldest keys.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Protocol


class LoginThrottle(Protocol):
    """What the authenticator asks of a failed-login counter."""

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again (0: they may now)."""

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failure for each key."""

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys."""


MAX_KEYS = 10_000
"""Keys remembered at most (the least recently failing are forgotten first)."""


class FailureThrottle:
    """In one process: at most ``max_failures`` failures per key within ``window_seconds``."""

    def __init__(self, max_failures: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again (0: they may now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.max_failures:
                    wait = max(wait, times[0] + self.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failure for each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque()
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (a correct password was given)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
