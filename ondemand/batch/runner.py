"""The batch runner: one per server process; a leader per machine runs the queue.

Processes sharing one data dir (``uvicorn --workers N``) elect a leader with an
exclusive lock on ``data_dir/batch.lock``: it runs batch jobs on the Dask cluster, the
others only queue jobs and answer status requests, and take over when the leader dies
(the operating system releases its lock). Across machines sharing a PostgreSQL store,
every machine's leader claims jobs from the one queue: a claim is a lease that the
leader renews every few seconds (:data:`HEARTBEATS_PER_LEASE` times per lease). When a
machine dies its leases expire and another machine's leader queues those jobs again
and resumes them under a new run id, so no job runs twice at once (the old run, should
it come back, can no longer record anything). Taking over also recovers what this
machine's previous leader left, at once, and deletes files no job refers to.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import socket
import threading
from pathlib import Path
from typing import IO

from ..engine import Engine
from ..jobs import JobRecord, JobStore
from ..settings import Settings
from ..userfiles import FileRoot
from .cluster import Cluster
from .run import RunContext, run_batch
from .storage import ResultStorage
from .store import BatchStore
from .worker import EngineSpec

log = logging.getLogger("ondemand.batch")

POLL_SECONDS = 1.0
"""How often the queue (and, for followers, the leader lock) is looked at."""
MAX_ATTEMPTS = 3
"""Runs interrupted by server stops before a job is failed instead of restarted."""
HEARTBEATS_PER_LEASE = 4
"""Lease renewals per lease period: a slow database can miss a few."""


class BatchRunner:
    """Queues and runs batch jobs in background threads of the server process."""

    def __init__(
        self,
        settings: Settings,
        catalog_paths: list[Path],
        jobs: JobStore,
        engine: Engine,
        results: ResultStorage,
        files: FileRoot,
    ) -> None:
        self.settings = settings
        self.store = BatchStore(jobs)
        self.shared = jobs.db.shared
        self.engine = engine
        self.results = results
        self.files = files
        self.engine_spec = EngineSpec(
            tuple(str(p.resolve()) for p in catalog_paths), settings
        )
        self.node = node_id(settings.data_dir)
        self.owner = f"{self.node}/{os.getpid()}-{secrets.token_hex(4)}"
        """Who holds this process's leases: this machine's node id, then the process."""
        self.cluster: Cluster | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._runs: dict[str, tuple[str, threading.Thread]] = {}
        self._runs_lock = threading.Lock()
        self._lock_file: IO[bytes] | None = None
        self._cluster_lock = threading.Lock()

    @property
    def is_leader(self) -> bool:
        """Whether this process runs the batch queue."""
        return self._lock_file is not None

    def start(self) -> None:
        """Start the background loops (call once, at server start-up)."""
        for target, name in ((self._loop, "ondemand-batch"), (self._beat, "ondemand-lease")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look at the queue now (a job was queued or canceled)."""
        self._wake.set()

    def close(self, timeout: float = 60.0) -> None:
        """Stop: running jobs go back to the queue; the local cluster shuts down."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        for _, thread in list(self._runs.values()):
            thread.join(timeout)
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # ------------------------------------------------------------------ loop

    def _loop(self) -> None:
        """Lead when possible; recover expired leases; start queued jobs while there is room."""
        while not self._stop.is_set():
            try:
                if self.is_leader or self._take_lead():
                    if self.shared:
                        self._recovered(self.store.recover_expired(MAX_ATTEMPTS))
                    self._start_runs()
            except Exception:
                log.exception("batch queue loop failed; retrying")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _beat(self) -> None:
        """Renew the leases of this process's running jobs."""
        lease = self.settings.batch_lease_seconds
        while not self._stop.wait(lease / HEARTBEATS_PER_LEASE):
            with self._runs_lock:
                run_ids = [run_id for run_id, thread in self._runs.values() if thread.is_alive()]
            try:
                held = self.store.heartbeat(self.owner, run_ids, lease)
            except Exception:
                log.exception("renewing batch leases failed; retrying")
                continue
            lost = set(run_ids) - held
            if lost:
                log.warning("batch runs %s were taken over or canceled meanwhile", sorted(lost))

    def _take_lead(self) -> bool:
        """Try to become this machine's leader; recover the previous leader's jobs."""
        path = self.settings.data_dir / "batch.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "ab")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        try:
            recovered = self.store.recover(MAX_ATTEMPTS, self.node if self.shared else None)
            self._recovered(recovered)
            shutil.rmtree(self.settings.data_dir / "staging", ignore_errors=True)
            self._collect_garbage()
        except BaseException:
            handle.close()
            raise
        self._lock_file = handle
        return True

    def _recovered(self, job_ids: list[str]) -> None:
        """Log jobs given back to the queue."""
        if job_ids:
            log.warning("batch jobs interrupted by a server stop, recovered: %s", job_ids)

    def _collect_garbage(self) -> None:
        """Delete result files no job refers to (deleted jobs, interrupted runs).

        The storage is listed before the store is read: a run published after the
        listing is not looked at, one published before it is in the store's snapshot.
        """
        listed = {job_id: self.results.runs(job_id) for job_id in self.results.job_ids()}
        job_ids = self.store.job_ids()
        keep = self.store.active_runs()
        for job_id, runs in listed.items():
            if job_id not in job_ids:
                self.results.remove_runs(job_id)
                continue
            for run_id in runs:
                if run_id != keep.get(job_id):
                    self.results.remove_run(job_id, run_id)

    def _start_runs(self) -> None:
        """Claim queued jobs up to the limit and run each in its own thread."""
        with self._runs_lock:
            for job_id, (_, thread) in list(self._runs.items()):
                if not thread.is_alive():
                    del self._runs[job_id]
        while not self._stop.is_set():
            job = self.store.claim(
                self.settings.batch_jobs, self.owner, self.settings.batch_lease_seconds
            )
            if job is None:
                return
            assert job.run_id is not None
            thread = threading.Thread(
                target=self._run_one, args=(job,), name=f"ondemand-batch-{job.job_id}",
                daemon=True,
            )
            with self._runs_lock:
                self._runs[job.job_id] = (job.run_id, thread)
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
            files=self.files,
            results=self.results,
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


def node_id(data_dir: Path) -> str:
    """This machine's id in lease owners: the host name and a random id kept in the data dir.

    Processes sharing a data dir share the id, so a new leader knows its predecessor's
    runs as its own machine's.
    """
    path = data_dir / "node-id"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(f"{socket.gethostname()}-{secrets.token_hex(6)}")
    for _ in range(50):
        text = path.read_text().strip()
        if text:
            return text
        threading.Event().wait(0.01)  # another process is writing it
    raise RuntimeError(f"{path} is empty; delete it and start again")
