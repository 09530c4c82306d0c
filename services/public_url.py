"""Which URL a request was addressed to: never an unchecked ``Host`` or ``X-Forwarded-*``.

Service URLs, capabilities and links are built from the request's scheme, Host header
and root path. This middleware fixes them before any route sees the request:

1. From a configured trusted proxy (``--trusted-proxy``), ``X-Forwarded-For`` gives the
   client address and ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` the scheme and host.
   From anyone else those headers are ignored.
2. With ``--public-url`` the scheme, host and path prefix are the public URL's.
3. Otherwise the Host header stands only when it names the address the connection
   reached (or, on a loopback connection, a loopback name such as ``localhost``);
   any other Host is replaced by that address, so a forged Host (DNS rebinding, cache
   poisoning) never reaches a URL.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ondemand.errors import ArgumentInvalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::[0-9]{1,5})?$")
"""A host[:port] as it may appear in a Host or X-Forwarded-Host header."""


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


def parse_networks(texts: Sequence[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/8``, ``::1``) of trusted proxies."""
    out = []
    for text in texts:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ArgumentInvalid(
                f"--trusted-proxy {text!r} must be an IP address or network (10.0.0.0/8)"
            ) from None
    return tuple(out)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _split_host(host: str, scheme: str) -> tuple[str, int] | None:
    """``(name, port)`` of a Host header (default port by scheme), None if malformed."""
    if not _HOST.match(host):
        return None
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:]
    else:
        name, _, port = host.partition(":")
    return name.lower(), int(port) if port else _default_port(scheme)


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


class PublicURLMiddleware:
    """Rewrites scheme, Host, root path and client of each request by the rules above."""

    def __init__(self, app: ASGIApp, public_url: str | None = None,
                 trusted_proxies: Sequence[str] = ()) -> None:
        self.app = app
        self.public = None if not public_url else parse_public_url(public_url)
        self.proxies = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on as addressed by the rules of this module."""
        if scope["type"] in ("http", "websocket"):
            scope = self._rewrite(scope)
        await self.app(scope, receive, send)

    def _trusted(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in net for net in self.proxies)

    def _rewrite(self, scope: Scope) -> Scope:
        headers = Headers(scope=scope)
        scheme: str = scope.get("scheme", "http")
        client = scope.get("client")
        host = headers.get("host", "")
        forwarded = False
        if client is not None and self._trusted(client[0]):
            forwarded = True
            client = self._forwarded_client(headers, client)
            proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
            scheme = proto if proto in ("http", "https") else scheme
            fhost = headers.get("x-forwarded-host", "").split(",")[0].strip()
            host = fhost if _HOST.match(fhost) else host
        prefix = scope.get("root_path", "")
        if self.public is not None:
            scheme, host, prefix = self.public
        elif not forwarded:
            host = self._checked_host(host, scheme, scope.get("server"))
        rest = [(k, v) for k, v in scope["headers"] if k != b"host"]
        return {**scope, "scheme": scheme, "root_path": prefix, "client": client,
                "headers": [(b"host", host.encode("latin-1")), *rest]}

    def _forwarded_client(self, headers: Headers,
                          client: tuple[str, int]) -> tuple[str, int]:
        """The first address from the right of X-Forwarded-For that is not a trusted proxy."""
        hops = [h.strip() for h in ",".join(headers.getlist("x-forwarded-for")).split(",")]
        for hop in reversed([h for h in hops if h]):
            if _address(hop) is None:
                break
            if not self._trusted(hop):
                return hop.strip("[]"), 0
        return client

    @staticmethod
    def _checked_host(host: str, scheme: str, server: tuple[str, int | None] | None) -> str:
        """``host`` when it names the address the connection reached, else that address."""
        if server is None:
            return host
        bound, port = server[0], server[1] or _default_port(scheme)
        named = _split_host(host, scheme)
        address = _address(bound)
        loopback = address is not None and address.is_loopback
        if named is not None and named[1] == port and (
                named[0] == bound.lower() or (loopback and named[0] in LOOPBACK_NAMES)):
            return host
        bound_text = f"[{bound}]" if ":" in bound else bound
        return bound_text if port == _default_port(scheme) else f"{bound_text}:{port}"
