"""Logging in and out: ``GET /auth/login`` (HTTP Basic -> token), ``POST /auth/logout``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import AuthenticationRequired, AuthenticationSchemeInvalid

from ..state import run_blocking, state_of
from ..users import current_user


async def login(request: Request) -> Response:
    """``GET /auth/login`` with HTTP Basic: ``{user_id, token, expires}``."""
    state = state_of(request)
    header = request.headers.get("authorization", "")
    if state.auth is None:
        user = current_user(request)
    elif not header.lower().startswith("basic "):
        # 403, not 401: the draft documents only 403 for a refused login
        raise AuthenticationSchemeInvalid(
            "Log in with HTTP Basic credentials (user name and password)"
        )
    else:
        user = await run_blocking(request, state.auth.user, header)
    token, expires = state.tokens.issue(user)
    return JSONResponse(
        {"user_id": user, "token": token, "expires": int(expires)},
        headers={"Cache-Control": "no-store"},
    )


async def logout(request: Request) -> Response:
    """``POST /auth/logout`` with a Bearer token: revoke it."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationRequired("Send the token to revoke as 'Authorization: Bearer <token>'")
    state_of(request).tokens.revoke(value.strip())
    return Response(status_code=204)
