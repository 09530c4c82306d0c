"""Back-pressure: bounded concurrent evaluations per client and a bounded queue overall."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from ondemand.errors import ServerBusy


class EvaluationGate:
    """Admits an evaluation or refuses it at once with ServerBusy (503 + Retry-After).

    ``per_client`` evaluations of one client may be admitted at a time; overall at
    most ``workers + queue`` may be admitted (running or waiting for a thread).
    Refusing early keeps latency bounded instead of piling requests up.
    """

    def __init__(self, workers: int, queue: int, per_client: int) -> None:
        self.capacity = workers + queue
        self.per_client = per_client
        self._lock = threading.Lock()
        self._by_client: Counter[str] = Counter()
        self._admitted = 0

    @contextmanager
    def admit(self, client: str | None) -> Iterator[None]:
        """Hold a slot (counted against ``client`` unless None) while the block runs."""
        with self._lock:
            if client is not None and self._by_client[client] >= self.per_client:
                raise ServerBusy(
                    f"Too many evaluations of yours are running ({self.per_client} at most); "
                    "retry when one has finished"
                )
            if self._admitted >= self.capacity:
                raise ServerBusy("The server is busy with other evaluations; retry in a moment")
            if client is not None:
                self._by_client[client] += 1
            self._admitted += 1
        try:
            yield
        finally:
            with self._lock:
                if client is not None:
                    self._by_client[client] -= 1
                    if self._by_client[client] <= 0:
                        del self._by_client[client]
                self._admitted -= 1

    @property
    def admitted(self) -> int:
        """Evaluations currently admitted."""
        return self._admitted
