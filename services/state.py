"""What the application holds while it runs: settings, catalog, engine."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

from ondemand.accounts import AccountFile
from ondemand.batch.runner import BatchRunner
from ondemand.batch.storage import ResultStorage, open_results
from ondemand.cache import TileCache
from ondemand.catalog import Catalog, open_catalog
from ondemand.demo import ensure_demo_catalog
from ondemand.engine import Engine
from ondemand.graphstore import ProcessGraphStore
from ondemand.jobs import JobStore
from ondemand.login_failures import SharedFailureThrottle
from ondemand.settings import Settings
from ondemand.signing import UrlSigner
from ondemand.store import Database, open_database
from ondemand.tokens import TokenStore
from ondemand.userfiles import FileRoot, check_apart, open_files

from .authenticator import Authenticator
from .gate import EvaluationGate
from .layers import LayerCache


@dataclass
class AppState:
    """The running server's shared objects, built once at start-up."""

    settings: Settings
    catalog: Catalog
    engine: Engine
    tiles: TileCache
    """Encoded tiles and, through the engine, intermediates of map tiles."""
    jobs: JobStore
    tokens: TokenStore
    results: ResultStorage
    """Where batch results live (a folder or a bucket every server reads)."""
    files: FileRoot
    """Where users' uploaded files live (a folder or a bucket every server reads)."""
    auth: Authenticator | None
    """None when no users file is configured: every caller is the local user."""
    graphs: ProcessGraphStore = field(init=False)
    """Users' stored process graphs, in the jobs' database."""
    batch: BatchRunner | None = None
    """Runs batch jobs (started and stopped by the app's lifespan)."""
    limiter: CapacityLimiter = field(init=False)
    layers: LayerCache = field(init=False)
    gate: EvaluationGate = field(init=False)
    signer: UrlSigner = field(init=False)
    """Signs the short-lived tile URLs of owner-only services (browser maps)."""

    def __post_init__(self) -> None:
        self.limiter = CapacityLimiter(self.settings.worker_threads)
        self.signer = UrlSigner(self.jobs.db, self.settings.signed_url_ttl_seconds)
        self.graphs = ProcessGraphStore(self.jobs)
        self.layers = LayerCache(self.graphs)
        self.gate = EvaluationGate(
            workers=self.settings.worker_threads,
            queue=self.settings.max_queued,
            per_client=self.settings.max_concurrent_per_user,
        )

    def close(self) -> None:
        """Release threads, files and database connections."""
        self.engine.close()
        self.tiles.close()
        self.jobs.db.close()


def build_state(settings: Settings, service_types: Collection[str] | None = None) -> AppState:
    """Load (and on first start generate) the catalogs and build the engine; the job store
    accepts ``service_types`` (the registered protocols'; None: any)."""
    results = open_results(settings.results, settings.data_dir)
    results.check()
    paths: list[Path] = list(settings.catalogs)
    if settings.uses_demo:
        paths += ensure_demo_catalog(settings.data_dir)
    catalog = open_catalog(paths, settings)
    database: Database = open_database(
        settings.store, settings.data_dir, settings.store_pool_size, settings.store_wait_seconds
    )
    try:
        files = open_files(settings.files_dir, settings.data_dir, database)
        check_apart(files, results.root, results.location)
        files.sweep()
    except BaseException:
        database.close()
        raise
    tokens = TokenStore(database, settings.token_ttl_seconds)
    auth = None
    if settings.users_file is not None:
        throttle = SharedFailureThrottle(database, settings.login_max_failures,
                                         settings.login_window_seconds)
        auth = Authenticator(AccountFile(settings.users_file), tokens, throttle)
    tiles = TileCache(settings.data_dir / "cache" / "tiles", settings.cache_bytes)
    state = AppState(
        settings=settings,
        catalog=catalog,
        engine=Engine(catalog, settings, cache=tiles),
        tiles=tiles,
        jobs=JobStore(database, service_types),
        tokens=tokens,
        results=results,
        files=files,
        auth=auth,
    )
    state.batch = BatchRunner(settings, paths, state.jobs, state.engine, state.results,
                              files)
    return state


def state_of(request: Request) -> AppState:
    """The application state of the app serving ``request``."""
    state = request.app.state.ondemand
    assert isinstance(state, AppState)
    return state


T = TypeVar("T")


async def run_blocking(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking work (reads, tiles, compiling) in the worker threads, not on the event loop.

    Admission is bounded overall: past workers + queue the request fails at once with
    ServerBusy (503) instead of piling up.
    """
    state = state_of(request)
    with state.gate.admit(None):
        return await anyio.to_thread.run_sync(partial(fn, *args), limiter=state.limiter)


async def run_evaluation(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Like :func:`run_blocking` for a heavy synchronous evaluation (execute, coverages).

    These are also bounded per client (the authenticated user, else the client address),
    so one client cannot hold every worker.
    """
    state = state_of(request)
    with state.gate.admit(client_key(request)):
        return await anyio.to_thread.run_sync(partial(fn, *args), limiter=state.limiter)


def client_key(request: Request) -> str:
    """Who an evaluation is counted against: the user once authenticated, else the address."""
    user = getattr(request.state, "user_id", None)
    if isinstance(user, str):
        return f"user:{user}"
    return f"addr:{request.client.host if request.client else 'unknown'}"
