"""The batch runner: one per server process, the leader among them runs the queue.

Several server processes may share one data dir (``uvicorn --workers N``). The one
holding an exclusive lock on ``data_dir/batch.lock`` runs batch jobs (at most
``batch_jobs`` at once) on its Dask cluster; the others only queue jobs and answer
status requests from the shared SQLite file, and take over when the leader dies (the
operating system releases its lock). Taking over first recovers what the previous
leader left: runs it had started are queued again (or failed after repeated
interruptions) and their partial files deleted.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import IO

from ..engine import Engine
from ..jobs import JobRecord, JobStore
from ..settings import Settings
from .cluster import Cluster
from .results import remove_orphans, remove_runs, results_root
from .run import RunContext, run_batch
from .store import BatchStore
from .worker import EngineSpec

log = logging.getLogger("ondemand.batch")

POLL_SECONDS = 1.0
"""How often the queue (and, for followers, the leader lock) is looked at."""
MAX_ATTEMPTS = 3
"""Runs interrupted by server stops before a job is failed instead of restarted."""


class BatchRunner:
    """Queues and runs batch jobs in background threads of the server process."""

    def __init__(
        self, settings: Settings, catalog_paths: list[Path], jobs: JobStore, engine: Engine
    ) -> None:
        self.settings = settings
        self.store = BatchStore(jobs)
        self.engine = engine
        self.engine_spec = EngineSpec(
            tuple(str(p.resolve()) for p in catalog_paths), settings
        )
        self.cluster: Cluster | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._loop_thread: threading.Thread | None = None
        self._runs: dict[str, threading.Thread] = {}
        self._lock_file: IO[bytes] | None = None
        self._cluster_lock = threading.Lock()

    @property
    def is_leader(self) -> bool:
        """Whether this process runs the batch queue."""
        return self._lock_file is not None

    def start(self) -> None:
        """Start the background loop (call once, at server start-up)."""
        self._loop_thread = threading.Thread(
            target=self._loop, name="ondemand-batch", daemon=True
        )
        self._loop_thread.start()

    def wake(self) -> None:
        """Look at the queue now (a job was queued or canceled)."""
        self._wake.set()

    def close(self, timeout: float = 60.0) -> None:
        """Stop: running jobs go back to the queue; the local cluster shuts down."""
        self._stop.set()
        self._wake.set()
        if self._loop_thread is not None:
            self._loop_thread.join(timeout)
        for thread in list(self._runs.values()):
            thread.join(timeout)
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # ------------------------------------------------------------------ loop

    def _loop(self) -> None:
        """Lead when possible; start queued jobs while there is room."""
        while not self._stop.is_set():
            try:
                if self.is_leader or self._take_lead():
                    self._start_runs()
            except Exception:
                log.exception("batch queue loop failed; retrying")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _take_lead(self) -> bool:
        """Try to become the leader; on success recover the previous leader's jobs."""
        path = self.settings.data_dir / "batch.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "ab")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        recovered = self.store.recover(MAX_ATTEMPTS)
        if recovered:
            log.warning("batch jobs interrupted by a server stop, recovered: %s", recovered)
        self._collect_garbage()
        return True

    def _collect_garbage(self) -> None:
        """Delete result files no job refers to (deleted jobs, interrupted runs)."""
        data_dir = self.settings.data_dir
        remove_orphans(data_dir, self.store.job_ids())
        keep = self.store.active_runs()
        root = results_root(data_dir)
        if root.is_dir():
            for job_dir in root.iterdir():
                remove_runs(data_dir, job_dir.name, keep.get(job_dir.name))

    def _start_runs(self) -> None:
        """Claim queued jobs up to the limit and run each in its own thread."""
        for job_id, thread in list(self._runs.items()):
            if not thread.is_alive():
                del self._runs[job_id]
        while not self._stop.is_set():
            job = self.store.claim(self.settings.batch_jobs)
            if job is None:
                return
            thread = threading.Thread(
                target=self._run_one, args=(job,), name=f"ondemand-batch-{job.job_id}",
                daemon=True,
            )
            self._runs[job.job_id] = thread
            thread.start()

    def _run_one(self, job: JobRecord) -> None:
        """Run one claimed job; connect to the cluster first if needed."""
        assert job.run_id is not None
        try:
            cluster = self._cluster()
        except Exception as exc:
            log.exception("cannot connect to the Dask cluster")
            where = self.settings.dask_scheduler or "the local cluster"
            self.store.fail(
                job.job_id,
                job.run_id,
                f"Cannot run batch jobs: connecting to the Dask scheduler at {where} failed "
                f"({type(exc).__name__}: {exc}); check that it runs and is reachable",
            )
            return
        context = RunContext(
            cluster=cluster,
            store=self.store,
            engine=self.engine,
            engine_spec=self.engine_spec,
            data_dir=self.settings.data_dir,
            chunk_size=self.settings.batch_chunk_size,
            stop=self._stop,
        )
        outcome = run_batch(job, context)
        log.info("batch job %s run %s: %s", job.job_id, job.run_id, outcome)
        self._wake.set()

    def _cluster(self) -> Cluster:
        """The Dask cluster, started (or connected) on first use."""
        with self._cluster_lock:
            if self.cluster is None:
                self.cluster = Cluster(self.settings)
            return self.cluster
