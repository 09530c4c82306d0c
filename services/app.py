"""The starlette application factory: the registry's routes over one application state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from ondemand.settings import Settings

from .access import protocol_routes
from .basic_auth import BasicAuthMiddleware
from .cors import CORSMiddleware
from .errors import EXCEPTION_HANDLERS
from .protocol import Protocol, service_types
from .public_url import PublicURLMiddleware
from .registry import PROTOCOLS
from .state import build_state


def create_app(settings: Settings, protocols: tuple[Protocol, ...] = PROTOCOLS) -> Starlette:
    """Build the application; catalogs load (and the demo generates) at start-up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        kinds = tuple(service_types(protocols))
        state = await anyio.to_thread.run_sync(build_state, settings, kinds)
        app.state.ondemand = state
        if state.batch is not None:
            state.batch.start()
        try:
            yield
        finally:
            if state.batch is not None:
                await anyio.to_thread.run_sync(state.batch.close)
            state.close()

    routes: list[BaseRoute] = [route for p in protocols for route in protocol_routes(p)]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(PublicURLMiddleware, public_url=settings.public_url,
                       trusted_proxies=settings.trusted_proxies),
            Middleware(CORSMiddleware, origins=settings.cors_origins,
                       users=settings.users_file is not None),
            Middleware(BasicAuthMiddleware),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.protocols = protocols
    return app


def app_from_env() -> Starlette:
    """The application of ``ONDEMAND_*`` settings: the factory of each server worker process."""
    return create_app(Settings.from_env())
