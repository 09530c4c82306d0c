"""``--public-url``: the URL clients reach the server at, instead of their Host header.

Service URLs, capabilities and links are built from the request's base URL; without
this setting it comes from the Host header the client sent, unchecked. With it, every
request is seen as addressed to the public scheme, host and path prefix.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ondemand.errors import ArgumentInvalid


def parse_public_url(text: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], path prefix)`` of a public URL (ArgumentInvalid if unusable)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or \
            parts.fragment or "@" in parts.netloc:
        raise ArgumentInvalid(
            f"--public-url {text!r} must look like https://maps.example.org or "
            "https://example.org/ondemand"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


class PublicURLMiddleware:
    """Rewrites scheme, Host and root path of every request to the public URL's."""

    def __init__(self, app: ASGIApp, public_url: str | None = None) -> None:
        self.app = app
        self.public = None if not public_url else parse_public_url(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on as addressed to the public URL."""
        if self.public is not None and scope["type"] in ("http", "websocket"):
            scheme, host, prefix = self.public
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {**scope, "scheme": scheme, "root_path": prefix,
                     "headers": [(b"host", host.encode("latin-1")), *headers]}
        await self.app(scope, receive, send)
