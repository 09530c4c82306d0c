"""CORS as the API draft asks: echo the Origin, answer every preflight with 204."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "OPTIONS, GET, POST, PATCH, PUT, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, Range, If-None-Match"
EXPOSE_HEADERS = (
    "Content-Length, Content-Range, ETag, Content-Disposition, Content-Bbox, Content-Crs, "
    "OnDemand-Rendering, Location, OpenEO-Identifier, OpenEO-Costs"
)


class CORSMiddleware:
    """Adds CORS headers when the request has an Origin; ``OPTIONS`` on any path is a preflight."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if scope["method"] == "OPTIONS":
            await _preflight(origin, send)
            return
        if origin is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                    (b"vary", b"Origin"),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(origin: bytes | None, send: Send) -> None:
    """Answer a preflight request: 204 with the allowed methods and headers."""
    headers = [
        (b"access-control-allow-methods", ALLOW_METHODS.encode()),
        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
        (b"access-control-max-age", b"600"),
        (b"content-type", b"application/json"),
    ]
    if origin is not None:
        headers += [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
