"""CORS per deployment: an allow-list of origins, safe defaults, and no cross-site writes.

- An origin given with ``--cors-origin`` (``ONDEMAND_CORS_ORIGINS``) is echoed with
  ``Access-Control-Allow-Credentials: true`` on every endpoint and method.
- ``--cors-origin '*'`` (with user accounts only) answers ``*`` without credentials on
  every endpoint: browser clients send their token in ``Authorization``.
- Otherwise (the default) any origin may read public resources (discovery, openEO
  discovery, and the capability URLs under ``/services/{id}/``) with GET, answered ``*`` without
  credentials; nothing else gets CORS headers.
- ``null`` is never echoed or allowed. A request that can change something (any
  method but GET, HEAD, OPTIONS) from an origin that is neither the server's own
  nor allowed is refused with 403 before it reaches a route: browsers send simple
  cross-site POSTs without a preflight, so headers alone would not stop them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "OPTIONS, GET, POST, PATCH, PUT, DELETE"
READ_METHODS = "OPTIONS, GET, HEAD"
ALLOW_HEADERS = "Authorization, Content-Type, Range, If-None-Match"
EXPOSE_HEADERS = (
    "Content-Length, Content-Range, ETag, Content-Disposition, Content-Bbox, Content-Crs, "
    "OnDemand-Rendering, Location, OpenEO-Identifier, OpenEO-Costs"
)
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_PUBLIC = re.compile(
    r"^/(?:|data|collections(?:/.*)?|processes(?:/.*)?|capabilities(?:/.*)?|openapi\.json"
    r"|services/[0-9a-f]{8,64}/.+|\.well-known/openeo"
    r"|openeo/1\.2(?:/|/conformance|/collections(?:/.*)?|/processes(?:/.*)?|/file_formats"
    r"|/service_types|/udf_runtimes)?)$"
)
"""Paths anyone may read cross-origin by default (services: capability URLs below an id)."""


class CORSMiddleware:
    """Adds CORS headers by the policy above; ``OPTIONS`` on any path is a preflight."""

    def __init__(self, app: ASGIApp, origins: Sequence[str] = (), users: bool = False) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/") for o in origins if o not in ("*", "null"))
        self.any_origin = "*" in origins and users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        method = scope["method"]
        if method == "OPTIONS":
            wanted = headers.get("access-control-request-method", "GET").upper()
            await _preflight(self._grant(origin, scope, wanted), send)
            return
        if origin is None:
            await self.app(scope, receive, send)
            return
        grant = self._grant(origin, scope, method)
        if grant is None and method not in _SAFE and not _same_origin(origin, scope, headers):
            await _refuse(origin, send)
            return
        if grant is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*grant, (b"access-control-expose-headers", EXPOSE_HEADERS.encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _grant(self, origin: str | None, scope: Scope,
               method: str) -> list[tuple[bytes, bytes]] | None:
        """The CORS headers ``origin`` gets for ``method`` on this path (None: none)."""
        if origin is None or origin == "null":
            return None
        if origin.rstrip("/") in self.allowed:
            return [(b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                    (b"vary", b"Origin")]
        if self.any_origin:
            return [(b"access-control-allow-origin", b"*"),
                    (b"access-control-allow-methods", ALLOW_METHODS.encode())]
        if method in _SAFE and _PUBLIC.match(scope["path"]):
            return [(b"access-control-allow-origin", b"*"),
                    (b"access-control-allow-methods", READ_METHODS.encode())]
        return None


def _same_origin(origin: str, scope: Scope, headers: Headers) -> bool:
    """Whether ``origin`` is the server's own (as the browser addressed it)."""
    host = headers.get("host")
    return host is not None and origin.rstrip("/") == f"{scope.get('scheme', 'http')}://{host}"


async def _preflight(grant: list[tuple[bytes, bytes]] | None, send: Send) -> None:
    """Answer a preflight request: 204, with the grant's headers when there is one."""
    headers = [(b"content-type", b"application/json")]
    if grant is not None:
        headers += [*grant,
                    (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                    (b"access-control-max-age", b"600")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _refuse(origin: str, send: Send) -> None:
    """403 for a state-changing request from a foreign origin."""
    body = json.dumps({
        "code": 403,
        "message": f"Cross-origin request from {origin!r} refused; the server's operator can "
                   "allow that origin with --cors-origin",
    }).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
