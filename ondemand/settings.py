"""Server and engine settings: one object, built once and passed in."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


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
    public_url: str | None = None
    """The URL clients reach the server at (``https://maps.example.org``); service URLs
    and capabilities use it instead of the request's Host header."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of reverse proxies whose ``X-Forwarded-For``, ``-Proto`` and
    ``-Host`` headers are believed; from anyone else they are ignored."""
    cors_origins: tuple[str, ...] = ()
    """Origins (``https://host:port``) browsers may call from with credentials; ``*``
    (with users only) any origin without credentials. See docs/security.md."""
    login_max_failures: int = 10
    """Failed logins one client address (or one user name) may make per login window."""
    login_window_seconds: int = 300
    """The window failed logins are counted in; past the limit, 429 until it passes."""
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
    files_dir: str | Path | None = None
    """Where users' uploaded files live: a folder (shared by the servers), a ``file://`` URL
    or ``s3://BUCKET/PREFIX``; None for ``data_dir/files``."""

    @property
    def files_root(self) -> Path:
        """The folder holding every user's files (when they are kept in a folder)."""
        if self.files_dir is None or self.files_dir == "":
            return self.data_dir / "files"
        parts = urlsplit(str(self.files_dir))
        if parts.scheme not in ("", "file"):
            raise ValueError(f"users' files are at {self.files_dir}, not in a folder")
        return Path(parts.path if parts.scheme else self.files_dir)
    catalog_urls: tuple[str, ...] = ()
    """Static STAC ``collection.json`` files served over HTTP(S)."""
    stac_apis: tuple[str, ...] = ()
    """STAC API root URLs whose collections are served (items searched per request)."""
    stac_collections: tuple[str, ...] = ()
    """Only these collections of the STAC APIs (all of them when empty)."""
    stac_page_size: int = 100
    """Items per page of a STAC API search."""
    stac_max_items: int = 5000
    """A search finding more items than this fails with a message to narrow it."""
    stac_cache_seconds: float = 300.0
    """How long STAC API search results are reused (and a changed item may go unseen)."""
    stac_cache_entries: int = 512
    """Search results kept in memory."""
    stac_timeout: float = 10.0
    """Seconds one request to a STAC API (or remote catalog file) may take."""
    stac_retries: int = 2
    """Retries of a failed STAC API request, with back-off."""
    sign_hrefs: str | None = None
    """``module:function`` turning a remote asset href into a readable (signed) URL,
    e.g. ``planetary_computer:sign``."""
    http_timeout: float = 30.0
    """Seconds one HTTP request of GDAL for an asset may take (GDAL_HTTP_TIMEOUT)."""
    http_retries: int = 2
    """Retries of a failed HTTP asset request (GDAL_HTTP_MAX_RETRY)."""
    aws_no_sign_request: bool = False
    """Read ``s3://`` assets of public buckets without credentials (AWS_NO_SIGN_REQUEST)."""
    gdal_config: tuple[tuple[str, str], ...] = ()
    """GDAL configuration options (``KEY=VALUE``) over the defaults of ``ondemand.gdalenv``."""

    @property
    def uses_demo(self) -> bool:
        """The demo catalog is served when asked for or when no catalog is given."""
        return self.demo or not (self.catalogs or self.catalog_urls or self.stac_apis)

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
            values["files_dir"] = env["ONDEMAND_FILES_DIR"]
        if "ONDEMAND_DASK_SCHEDULER" in env:
            values["dask_scheduler"] = env["ONDEMAND_DASK_SCHEDULER"] or None
        if "ONDEMAND_CATALOGS" in env:
            values["catalogs"] = tuple(
                Path(p) for p in env["ONDEMAND_CATALOGS"].split(os.pathsep) if p
            )
        if "ONDEMAND_PUBLIC_URL" in env:
            values["public_url"] = env["ONDEMAND_PUBLIC_URL"] or None
        if "ONDEMAND_CORS_ORIGINS" in env:
            values["cors_origins"] = tuple(
                o.strip() for o in env["ONDEMAND_CORS_ORIGINS"].split(",") if o.strip()
            )
        if "ONDEMAND_TRUSTED_PROXIES" in env:
            values["trusted_proxies"] = tuple(
                o.strip() for o in env["ONDEMAND_TRUSTED_PROXIES"].split(",") if o.strip()
            )
        for name in ("catalog_urls", "stac_apis", "stac_collections"):
            key = f"ONDEMAND_{name.upper()}"
            if key in env:
                values[name] = tuple(env[key].split())
        if env.get("ONDEMAND_SIGN_HREFS"):
            values["sign_hrefs"] = env["ONDEMAND_SIGN_HREFS"]
        if "ONDEMAND_GDAL_CONFIG" in env:
            values["gdal_config"] = parse_gdal_config(env["ONDEMAND_GDAL_CONFIG"].split())
        for flag in ("demo", "insecure", "allow_registration", "aws_no_sign_request"):
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
            "ONDEMAND_CATALOG_URLS": " ".join(self.catalog_urls),
            "ONDEMAND_STAC_APIS": " ".join(self.stac_apis),
            "ONDEMAND_STAC_COLLECTIONS": " ".join(self.stac_collections),
            "ONDEMAND_SIGN_HREFS": self.sign_hrefs or "",
            "ONDEMAND_AWS_NO_SIGN_REQUEST": "1" if self.aws_no_sign_request else "0",
            "ONDEMAND_GDAL_CONFIG": " ".join(f"{k}={v}" for k, v in self.gdal_config),
            "ONDEMAND_CORS_ORIGINS": ",".join(self.cors_origins),
            "ONDEMAND_PUBLIC_URL": self.public_url or "",
            "ONDEMAND_TRUSTED_PROXIES": ",".join(self.trusted_proxies),
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
    ("login_max_failures", int),
    ("login_window_seconds", int),
    ("batch_jobs", int),
    ("batch_workers", int),
    ("batch_chunk_size", int),
    ("batch_lease_seconds", float),
    ("store_pool_size", int),
    ("store_wait_seconds", float),
    ("stac_page_size", int),
    ("stac_max_items", int),
    ("stac_cache_seconds", float),
    ("stac_cache_entries", int),
    ("stac_timeout", float),
    ("stac_retries", int),
    ("http_timeout", float),
    ("http_retries", int),
)
"""Numeric settings and their types, read from ``ONDEMAND_<NAME>``."""


AWS_SECRETS = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
"""AWS credentials: read from the environment (or ``AWS_PROFILE``), never GDAL options."""


def parse_gdal_config(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` strings as pairs; a pair without ``=`` or an AWS credential (which
    rasterio takes only from the environment) is a ValueError."""
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"GDAL option {pair!r} is not KEY=VALUE")
        if key.strip().upper() in AWS_SECRETS:
            raise ValueError(
                f"{key.strip()} is not a GDAL option here: set AWS credentials in the "
                "server's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or AWS_PROFILE"
            )
        out.append((key.strip(), value))
    return tuple(out)
