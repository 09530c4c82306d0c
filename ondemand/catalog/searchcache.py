"""A bounded, time-limited in-memory cache of search results, computed once per key."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SearchCache(Generic[V]):
    """At most ``entries`` values, each kept ``seconds``; least recently used evicted.

    Concurrent callers of :meth:`get` with the same missing key wait for one
    computation instead of each running it (ten tiles of one map share one search).
    Failures are not cached.
    """

    def __init__(self, entries: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._entries = max(0, entries)
        self._seconds = seconds
        self._clock = clock
        self._values: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self.misses = 0
        """How many values were computed (searches made)."""

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value under ``key``, computed by ``compute`` when absent or expired."""
        while True:
            with self._lock:
                hit = self._fresh(key)
                if hit is not None:
                    return hit[1]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = threading.Lock()
                    pending.acquire()
                    break
            with pending:  # another thread computes it: wait, then look again
                pass
        try:
            value = compute()
            with self._lock:
                self.misses += 1
                if self._entries:
                    self._values[key] = (self._clock() + self._seconds, value)
                    self._values.move_to_end(key)
                    while len(self._values) > self._entries:
                        self._values.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            pending.release()

    def _fresh(self, key: Hashable) -> tuple[float, V] | None:
        """The unexpired entry of ``key`` (moved to most recent), else None (dropped)."""
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[0] < self._clock():
            del self._values[key]
            return None
        self._values.move_to_end(key)
        return entry

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()
