"""What a protocol declares: its routes and who may call them, service types, OpenAPI, links.

Each protocol subpackage (``services/api``, ``services/ogc/wmts``, ``services/ogc/wcs``,
``services/maps``) builds one :class:`Protocol`; :mod:`services.registry` lists them
and everything else (the app's routes, ``POST /services``, ``/capabilities/services``,
the OpenAPI document, the viewer, service links) reads that list. See
``docs/protocols.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from ondemand.layer import Layer

Handler = Callable[[Request], Awaitable[Response]]

AUTH_ARG: Mapping[str, Any] = {
    "auth": {
        "description": "true: only the owner may read the service, with HTTP Basic or a "
        "Bearer token (GDAL: GDAL_HTTP_AUTH=BASIC and GDAL_HTTP_USERPWD; QGIS: an "
        "authentication configuration); false: anyone with the URL",
        "default": False,
    }
}
"""The argument every service type takes (``args.auth``), checked by ``POST /services``."""


class Access(Enum):
    """Who may call a route; enforced by :func:`services.access.protocol_routes`."""

    PUBLIC = "public"
    """Anyone: discovery, documents, static files, the login endpoints themselves."""
    USER = "user"
    """An authenticated caller (HTTP Basic or Bearer) when a users file is configured."""
    SERVICE = "service"
    """The service named by ``{service_id}``: it must exist, run, be of one of the
    protocol's service types, and (``args.auth``) be read by its owner."""
    OWN = "own"
    """A mounted API that authenticates in its own scheme (openEO's ``basic//`` Bearer
    tokens) inside its handlers; each such mount is listed in the route-access test."""


@dataclass(frozen=True)
class Endpoint:
    """One route: path, handler, methods and its declared access."""

    path: str
    handler: Handler
    methods: tuple[str, ...]
    access: Access


@dataclass(frozen=True)
class Socket:
    """A WebSocket route; it authenticates inside its handler (Access.OWN), as browsers
    cannot send headers on a WebSocket, and refuses with close codes."""

    path: str
    handler: Callable[[WebSocket], Awaitable[None]]


@dataclass(frozen=True)
class StaticFolder:
    """Static files mounted at ``path`` (always public)."""

    path: str
    directory: Path
    name: str


@dataclass(frozen=True)
class Mounted:
    """A sub-application mounted at ``path`` (an API with its own router and errors)."""

    path: str
    app: ASGIApp
    access: Access


@dataclass(frozen=True)
class ServiceType:
    """A ``type`` of ``POST /services`` and its description in ``/capabilities/services``."""

    name: str
    description: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewerLinks:
    """The service the viewer publishes for this protocol and the URLs it shows to copy.

    ``links(service_root, layer, maxzoom)`` gets the service's root URL
    (``{base}/services/{id}``).
    """

    service_type: str
    links: Callable[[str, Layer, int], dict[str, str]]


ErrorDialect = Callable[[Request, Exception], Response]
"""Renders an engine error (``OnDemandError``) or a protocol error as this protocol's report."""


@dataclass(frozen=True)
class Protocol:
    """One protocol, declared once."""

    name: str
    endpoints: tuple[Endpoint | StaticFolder | Mounted | Socket, ...]
    service_types: tuple[ServiceType, ...] = ()
    """Service types whose services this protocol's SERVICE routes answer."""
    openapi: Mapping[str, Any] = field(default_factory=dict)
    """OpenAPI path items of the routes it documents in ``/openapi.json``."""
    undocumented: Mapping[str, str] = field(default_factory=dict)
    """Route path prefixes left out of ``/openapi.json``, each with the reason."""
    errors: ErrorDialect | None = None
    """How its routes answer errors; None: JSON ``{"code", "message"}``."""
    viewer: ViewerLinks | None = None
    service_fields: Callable[[str], dict[str, Any]] | None = None
    """Extra fields of a service's JSON (``capabilities_url``, ``links``) from its root URL."""

    @property
    def type_names(self) -> tuple[str, ...]:
        """The names of its service types."""
        return tuple(t.name for t in self.service_types)


def protocols_of(request: Request) -> tuple[Protocol, ...]:
    """The protocols of the app serving ``request`` (set by ``create_app``)."""
    protocols = request.app.state.protocols
    assert isinstance(protocols, tuple)
    return protocols


def service_types(protocols: tuple[Protocol, ...]) -> dict[str, ServiceType]:
    """Every service type by name, in protocol order."""
    return {t.name: t for p in protocols for t in p.service_types}


def protocol_of_type(protocols: tuple[Protocol, ...], name: str) -> Protocol | None:
    """The protocol serving services of type ``name``; None for a type no protocol serves."""
    for protocol in protocols:
        if name in protocol.type_names:
            return protocol
    return None
