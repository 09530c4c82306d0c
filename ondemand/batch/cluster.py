"""The Dask cluster of batch jobs: a local one the server owns, or an existing scheduler.

A thin typed facade over the few ``distributed`` calls batch runs make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed

from ..settings import Settings

CONNECT_TIMEOUT = "20s"


class Cluster:
    """A Dask client, and the local cluster behind it when the server started one."""

    def __init__(self, settings: Settings) -> None:
        self.local: LocalCluster | None = None
        if settings.dask_scheduler:
            self.client = Client(  # type: ignore[no-untyped-call]
                settings.dask_scheduler, timeout=CONNECT_TIMEOUT
            )
            self.address = settings.dask_scheduler
        else:
            self.local = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=settings.batch_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",  # a free port: several clusters may run at once
            )
            self.client = Client(  # type: ignore[no-untyped-call]
                self.local, timeout=CONNECT_TIMEOUT
            )
            self.address = str(self.local.scheduler_address)

    def threads(self) -> int:
        """Worker threads of the cluster right now (at least 1)."""
        counts = self.client.nthreads()  # type: ignore[no-untyped-call]
        return max(1, sum(int(n) for n in counts.values()))

    def submit(self, fn: Callable[..., Any], arg: Any, key: str) -> Future[Any]:
        """Run ``fn(arg)`` on a worker (never deduplicated with another task)."""
        future: Future[Any] = self.client.submit(fn, arg, key=key, pure=False)
        return future

    def completed(self) -> Completed:
        """A set of futures whose results are fetched in the background as they finish."""
        return Completed()

    def cancel(self, futures: Iterable[Future[Any]]) -> None:
        """Cancel tasks that are no longer wanted."""
        self.client.cancel(list(futures))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Disconnect; stop the local cluster's scheduler and workers."""
        with suppress(Exception):
            self.client.close()  # type: ignore[no-untyped-call]
        if self.local is not None:
            with suppress(Exception):
                self.local.close()


class Completed:
    """Futures yielded as they finish, with their results already fetched (in parallel)."""

    def __init__(self) -> None:
        self._inner = as_completed(  # type: ignore[no-untyped-call]
            [], with_results=True, raise_errors=False
        )
        self.pending: set[Future[Any]] = set()

    def add(self, future: Future[Any]) -> None:
        """Watch one more future."""
        self.pending.add(future)
        self._inner.add(future)  # type: ignore[no-untyped-call]

    def ready(self) -> list[tuple[Future[Any], Any]]:
        """``(future, result)`` of the futures finished since the last call (maybe none)."""
        batch = []
        if self.pending:
            batch = self._inner.next_batch(block=False)  # type: ignore[no-untyped-call]
        for future, _ in batch:
            self.pending.discard(future)
        return list(batch)
