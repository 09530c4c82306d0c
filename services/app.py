"""The starlette application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from ondemand.settings import Settings

from . import (
    auth,
    batch,
    discovery,
    execute,
    files,
    jobs,
    openapi,
    point,
    tiles,
    viewer,
    wcs,
    web_services,
    wmts,
)
from .api import openeo
from .cors import CORSMiddleware
from .errors import EXCEPTION_HANDLERS
from .state import build_state


def create_app(settings: Settings) -> Starlette:
    """Build the application; catalogs load (and the demo generates) at start-up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = await anyio.to_thread.run_sync(build_state, settings)
        app.state.ondemand = state
        if state.batch is not None:
            state.batch.start()
        try:
            yield
        finally:
            if state.batch is not None:
                await anyio.to_thread.run_sync(state.batch.close)
            state.close()

    routes: list[BaseRoute] = [
        *discovery.routes,
        *auth.routes,
        *execute.routes,
        *files.routes,
        *jobs.routes,
        *batch.routes,
        *web_services.routes,
        *wcs.routes,
        *tiles.routes,
        *wmts.routes,
        *point.routes,
        *openapi.routes,
        *openeo.routes,
        *viewer.routes,
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(CORSMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """The application of ``ONDEMAND_*`` settings: the factory of each server worker process."""
    return create_app(Settings.from_env())


def endpoint_paths(app: Starlette) -> list[dict[str, object]]:
    """Every route's path and methods, for the capabilities document."""
    out: list[dict[str, object]] = []
    for route in app.routes:
        if isinstance(route, Route):
            methods = sorted((route.methods or set()) - {"HEAD"})
            out.append({"path": route.path.replace(":path", ""), "methods": methods})
    return out
