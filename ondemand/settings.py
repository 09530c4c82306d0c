"""Server and engine settings: one object, built once and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults a single-machine deployment can use."""

    data_dir: Path = Path("data")
    catalogs: tuple[Path, ...] = ()
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    max_pixels: int = 25_000_000
    """Most pixels one synchronous evaluation holds at once: window x bands x the dates read
    together (all dates for a time series or a median; one group of dates for a reduction
    over time that streams, see ``ondemand.stream``)."""
    max_graph_nodes: int = 200
    max_graph_depth: int = 64
    max_body_bytes: int = 10 * 1024 * 1024
    max_dates: int = 366
    """Largest number of dates one load of a synchronous evaluation may read (streamed or not)."""
    eval_timeout_seconds: float = 120.0
    """Synchronous evaluations (execute, coverages) stop after this long with a 413."""
    max_concurrent_per_user: int = 4
    """Evaluations one user (or client address) may run at once; more get 503 + Retry-After."""
    max_queued: int = 64
    """Evaluations waiting for a worker thread beyond which new ones get 503 + Retry-After."""
    read_threads: int = field(default_factory=lambda: min(8, (os.cpu_count() or 2) * 2))
    """Threads reading dates and bands concurrently inside one evaluation."""
    worker_threads: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    """Threads running blocking raster work for HTTP requests."""
    cache_bytes: int = 2 * 1024**3
    max_file_bytes: int = 100 * 1024**2
    """Largest user file (upload) in bytes."""
    user_quota_bytes: int = 1024**3
    """Total size of one user's files in bytes."""
    users_file: Path | None = None
    """JSON file of user accounts (``ondemand users add``); None = one local user."""
    insecure: bool = False
    """Allow binding to a non-loopback address without user accounts."""
    allow_registration: bool = False
    """``POST /auth/register`` creates accounts in the users file (refused otherwise)."""
    token_ttl_seconds: int = 24 * 3600
    signed_url_ttl_seconds: int = 900
    """Life of the signed tile URLs a browser map of an owner-only service gets."""
    dask_scheduler: str | None = None
    """Address of an existing Dask scheduler (``tcp://HOST:PORT``) for batch jobs; None
    starts a local cluster owned by the server."""
    batch_jobs: int = 2
    """Batch jobs running at once (the others wait in the queue, fairly across users)."""
    batch_workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    """Worker processes of the local Dask cluster (one thread each)."""
    batch_chunk_size: int = 1024
    """Side in pixels of the square chunks a batch job's output is split into."""
    batch_lease_seconds: float = 30.0
    """How long a server's claim on a running batch job lasts without renewal; a job whose
    server died is resumed by another server after this long."""
    store: str | None = None
    """Where jobs, services, tokens and the batch queue live: a ``postgresql://`` URL
    shared by several servers, or None for ``data_dir/jobs.sqlite``."""
    store_pool_size: int = 10
    """Connections each server process keeps open to a PostgreSQL store at most."""
    store_wait_seconds: float = 5.0
    """How long a request waits for a PostgreSQL connection (the database is down or every
    connection busy) before it is answered 503 with Retry-After."""
    results: str | None = None
    """Where batch results live: a folder (shared by the servers) or
    ``s3://BUCKET/PREFIX``; None for ``data_dir/results``."""
    files_dir: Path | None = None
    """Folder of users' uploaded files (shared by the servers); None for
    ``data_dir/files``."""

    @property
    def files_root(self) -> Path:
        """The folder holding every user's files."""
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @property
    def uses_demo(self) -> bool:
        """The demo catalog is served when asked for or when no catalog is given."""
        return self.demo or not self.catalogs

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``ONDEMAND_*`` variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if "ONDEMAND_DATA_DIR" in env:
            values["data_dir"] = Path(env["ONDEMAND_DATA_DIR"])
        if "ONDEMAND_USERS_FILE" in env:
            values["users_file"] = Path(env["ONDEMAND_USERS_FILE"])
        for name in ("store", "results"):
            if f"ONDEMAND_{name.upper()}" in env:
                values[name] = env[f"ONDEMAND_{name.upper()}"] or None
        if env.get("ONDEMAND_FILES_DIR"):
            values["files_dir"] = Path(env["ONDEMAND_FILES_DIR"])
        if "ONDEMAND_DASK_SCHEDULER" in env:
            values["dask_scheduler"] = env["ONDEMAND_DASK_SCHEDULER"] or None
        if "ONDEMAND_CATALOGS" in env:
            values["catalogs"] = tuple(
                Path(p) for p in env["ONDEMAND_CATALOGS"].split(os.pathsep) if p
            )
        for flag in ("demo", "insecure", "allow_registration"):
            key = f"ONDEMAND_{flag.upper()}"
            if key in env:
                values[flag] = env[key].strip().lower() in ("1", "true", "yes", "on")
        for name, kind in NUMBERS:
            key = f"ONDEMAND_{name.upper()}"
            if key in env:
                values[name] = kind(env[key])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The ``ONDEMAND_*`` variables from which :meth:`from_env` rebuilds these settings.

        Server worker processes (``ondemand serve --workers N``) are configured this way.
        """
        env = {
            "ONDEMAND_DATA_DIR": str(self.data_dir),
            "ONDEMAND_CATALOGS": os.pathsep.join(str(p) for p in self.catalogs),
            "ONDEMAND_DEMO": "1" if self.demo else "0",
            "ONDEMAND_INSECURE": "1" if self.insecure else "0",
            "ONDEMAND_ALLOW_REGISTRATION": "1" if self.allow_registration else "0",
            "ONDEMAND_DASK_SCHEDULER": self.dask_scheduler or "",
            "ONDEMAND_STORE": self.store or "",
            "ONDEMAND_RESULTS": self.results or "",
            "ONDEMAND_FILES_DIR": "" if self.files_dir is None else str(self.files_dir),
        }
        if self.users_file is not None:
            env["ONDEMAND_USERS_FILE"] = str(self.users_file)
        for name, _ in NUMBERS:
            env[f"ONDEMAND_{name.upper()}"] = str(getattr(self, name))
        return env


NUMBERS: tuple[tuple[str, type[int] | type[float]], ...] = (
    ("max_pixels", int),
    ("max_graph_nodes", int),
    ("max_graph_depth", int),
    ("max_body_bytes", int),
    ("max_dates", int),
    ("eval_timeout_seconds", float),
    ("max_concurrent_per_user", int),
    ("max_queued", int),
    ("read_threads", int),
    ("worker_threads", int),
    ("cache_bytes", int),
    ("max_file_bytes", int),
    ("user_quota_bytes", int),
    ("token_ttl_seconds", int),
    ("signed_url_ttl_seconds", int),
    ("batch_jobs", int),
    ("batch_workers", int),
    ("batch_chunk_size", int),
    ("batch_lease_seconds", float),
    ("store_pool_size", int),
    ("store_wait_seconds", float),
)
"""Numeric settings and their types, read from ``ONDEMAND_<NAME>``."""
