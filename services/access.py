"""Routes from protocol declarations, each guarded by the access it declares.

The one place access is enforced: a USER route authenticates the caller before
its handler runs, a SERVICE route looks up the path's service for its protocol
(:func:`services.published.service_layer`) and hands it to the handler
(:func:`services.published.published_of`). Nothing is public by convention: every
route says what it is, and ``tests/api/test_route_access.py`` lists the public ones.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ondemand.errors import OnDemandError

from .ogc.common import OWSException
from .protocol import Access, Endpoint, Handler, Mounted, Protocol, Socket, StaticFolder
from .published import service_layer
from .state import run_blocking
from .users import current_user


class GuardedRoute(Route):
    """A route that carries its declared access."""

    def __init__(self, endpoint: Endpoint, handler: Handler) -> None:
        super().__init__(endpoint.path, handler, methods=list(endpoint.methods))
        self.access = endpoint.access


class GuardedSocket(WebSocketRoute):
    """A WebSocket route: it authenticates its callers itself (Access.OWN)."""

    def __init__(self, socket: Socket) -> None:
        super().__init__(socket.path, socket.handler)
        self.access = Access.OWN


class GuardedMount(Mount):
    """A mount that carries its declared access (static files are public)."""

    def __init__(self, path: str, app: ASGIApp, access: Access, name: str | None = None) -> None:
        super().__init__(path, app=app, name=name)
        self.access = access


def guard(protocol: Protocol, endpoint: Endpoint) -> Handler:
    """``endpoint``'s handler behind its access check; errors in the protocol's dialect."""
    handler = endpoint.handler
    access = endpoint.access
    dialect = protocol.errors

    async def guarded(request: Request) -> Response:
        try:
            if access is Access.USER:
                current_user(request)
            elif access is Access.SERVICE:
                request.state.published = await run_blocking(
                    request, service_layer, request, protocol
                )
            return await handler(request)
        except (OWSException, OnDemandError) as exc:
            if dialect is None:
                raise
            return dialect(request, exc)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


def protocol_routes(protocol: Protocol) -> list[BaseRoute]:
    """The starlette routes of a protocol's endpoints and static folders."""
    routes: list[BaseRoute] = []
    for endpoint in protocol.endpoints:
        if isinstance(endpoint, StaticFolder):
            files = StaticFiles(directory=endpoint.directory)
            routes.append(GuardedMount(endpoint.path, files, Access.PUBLIC, endpoint.name))
        elif isinstance(endpoint, Socket):
            routes.append(GuardedSocket(endpoint))
        elif isinstance(endpoint, Mounted):
            routes.append(GuardedMount(endpoint.path, endpoint.app, endpoint.access))
        else:
            routes.append(GuardedRoute(endpoint, guard(protocol, endpoint)))
    return routes


def route_access(route: BaseRoute) -> Access | None:
    """The access a route declares (None: a route not built from a protocol)."""
    access = getattr(route, "access", None)
    return access if isinstance(access, Access) else None
