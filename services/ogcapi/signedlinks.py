"""Signed OGC API documents: read with a signed URL, every link to the service carries
the signature.

A browser map of an owner-only service cannot send credentials, so it starts from a URL
the owner signed (``?exp=...&sig=...``, see :mod:`ondemand.signing`; the viewer's
``/jobs/{id}/viewer/signature`` gives one). A client that only follows links (landing
page → collection → tilesets → tile template) would lose the signature at the first
hop; so a JSON document answered to a signed request has ``exp`` and ``sig`` appended
to each ``href`` below the service's root. Documents read with credentials, and public
services, are unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ..protocol import Handler
from ..published import published_of
from .sources import api_root

__all__ = ["carrying_signature", "sign_links"]


def sign_links(value: Any, root: str, query: str) -> Any:
    """``value`` with ``query`` appended to every ``href`` that starts with ``root``."""
    if isinstance(value, list):
        return [sign_links(v, root, query) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: sign_links(v, root, query) for k, v in value.items()}
    href = out.get("href")
    if isinstance(href, str) and (href == root or href.startswith(root + "/")):
        out["href"] = f"{href}{'&' if '?' in href else '?'}{query}"
    return out


def _signature(request: Request) -> str | None:
    """``exp=...&sig=...`` when the request's own signature is valid for its service
    (checked once, when the service was looked up)."""
    if not published_of(request).signed:
        return None
    q = request.query_params
    return urlencode({"exp": q["exp"], "sig": q["sig"]})


def carrying_signature(handler: Handler) -> Handler:
    """``handler`` whose JSON documents carry a signed request's signature in their links."""

    async def handle(request: Request) -> Response:
        response = await handler(request)
        media_type = response.media_type or ""
        if response.status_code != 200 or "json" not in media_type:
            return response
        query = _signature(request)
        if query is None:
            return response
        body = sign_links(json.loads(bytes(response.body)), api_root(request), query)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-type")}
        return Response(json.dumps(body), media_type=media_type, headers=headers)

    handle.__doc__ = handler.__doc__
    handle.__name__ = getattr(handler, "__name__", "handle")
    return handle
