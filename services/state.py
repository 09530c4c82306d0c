"""What the application holds while it runs: settings, catalog, engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

from ondemand.accounts import AccountFile
from ondemand.catalog import Catalog
from ondemand.demo import ensure_demo_catalog
from ondemand.engine import Engine
from ondemand.jobs import JobStore
from ondemand.settings import Settings
from ondemand.tokens import TokenStore

from .auth import Authenticator
from .layers import LayerCache


@dataclass
class AppState:
    """The running server's shared objects, built once at start-up."""

    settings: Settings
    catalog: Catalog
    engine: Engine
    jobs: JobStore
    tokens: TokenStore
    auth: Authenticator | None
    """None when no users file is configured: every caller is the local user."""
    limiter: CapacityLimiter = field(init=False)
    layers: LayerCache = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = CapacityLimiter(self.settings.worker_threads)
        self.layers = LayerCache()

    def close(self) -> None:
        """Release threads and files."""
        self.engine.close()


def build_state(settings: Settings) -> AppState:
    """Load (and on first start generate) the catalogs and build the engine."""
    paths: list[Path] = list(settings.catalogs)
    if settings.uses_demo:
        paths += ensure_demo_catalog(settings.data_dir)
    catalog = Catalog.load(paths)
    tokens = TokenStore(settings.data_dir / "tokens.sqlite", settings.token_ttl_seconds)
    auth = None
    if settings.users_file is not None:
        auth = Authenticator(AccountFile(settings.users_file), tokens)
    return AppState(
        settings=settings,
        catalog=catalog,
        engine=Engine(catalog, settings),
        jobs=JobStore(settings.data_dir / "jobs.sqlite"),
        tokens=tokens,
        auth=auth,
    )


def state_of(request: Request) -> AppState:
    """The application state of the app serving ``request``."""
    state = request.app.state.ondemand
    assert isinstance(state, AppState)
    return state


T = TypeVar("T")


async def run_blocking(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking raster work in the worker threads, never on the event loop."""
    limiter = state_of(request).limiter
    return await anyio.to_thread.run_sync(partial(fn, *args), limiter=limiter)
