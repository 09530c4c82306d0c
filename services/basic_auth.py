"""HTTP Basic checked before routing, in a worker thread: scrypt never runs on the event loop."""

from __future__ import annotations

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ondemand.errors import OnDemandError

PASSWORD_CHECKS = 2
"""Password checks (scrypt, CPU-bound) running at once; more wait, leaving the CPU to others."""


class BasicAuthMiddleware:
    """Checks HTTP Basic credentials in a worker thread before routing; the user, or the
    failure, waits on the request for :func:`services.users.current_user`, so public
    routes stay public."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate Basic credentials off the loop, then pass the request on."""
        if scope["type"] == "http":
            header = Headers(scope=scope).get("authorization", "")
            state = getattr(scope["app"].state, "ondemand", None)
            auth = None if state is None else state.auth
            if auth is not None and header[:6].lower() == "basic ":
                client = scope["client"][0] if scope.get("client") else ""
                slot = scope.setdefault("state", {})
                if self._limiter is None:  # created on the event loop
                    self._limiter = anyio.CapacityLimiter(PASSWORD_CHECKS)
                try:
                    slot["user_id"] = await anyio.to_thread.run_sync(
                        auth.user, header, client, limiter=self._limiter
                    )
                except OnDemandError as exc:
                    slot["auth_error"] = exc
        await self.app(scope, receive, send)
