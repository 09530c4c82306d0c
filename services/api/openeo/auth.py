"""openEO 1.x authentication: ``GET /credentials/basic`` issues a token that every
authenticated endpoint takes as ``Authorization: Bearer basic//<token>``; ``GET /me``.

The users file, the token store and the isolation rules are the draft's: the same
token also works there as ``Bearer <token>``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import (
    AuthenticationFailed,
    AuthenticationRequired,
    AuthenticationSchemeInvalid,
    CredentialsInvalid,
    LoginThrottled,
)

from ...state import run_blocking, state_of
from ...users import LOCAL_USER, current_user

BASIC_PREFIX = "basic//"
"""The openEO prefix of a token from ``/credentials/basic`` in a Bearer header."""


async def user_of(request: Request) -> str:
    """The authenticated user of a 1.x request (remembered on the request).

    Without a users file every caller is the local user, as in the draft.
    """
    cached = getattr(request.state, "user_id", None)
    if isinstance(cached, str):
        return cached
    state = state_of(request)
    header = request.headers.get("authorization", "").strip()
    if state.auth is None:
        user = LOCAL_USER
    else:
        scheme, _, value = header.partition(" ")
        if not header:
            raise AuthenticationRequired(
                "Authentication required: log in with GET /credentials/basic and send "
                "'Authorization: Bearer basic//<access_token>'"
            )
        if scheme.lower() != "bearer":
            raise AuthenticationSchemeInvalid(
                f"Authentication scheme {scheme!r} is not supported here: send "
                "'Authorization: Bearer basic//<access_token>' from GET /credentials/basic"
            )
        token = value.strip()
        if token.startswith(BASIC_PREFIX):
            token = token[len(BASIC_PREFIX):]
        elif "//" in token:
            method = token.split("//", 1)[0]
            raise AuthenticationSchemeInvalid(
                f"Authentication method {method!r} is not supported; use basic "
                "(GET /credentials/basic)"
            )
        user = await run_blocking(request, state.auth.user, f"Bearer {token}")
    request.state.user_id = user
    return user


async def credentials_basic(request: Request) -> Response:
    """``GET /credentials/basic`` with HTTP Basic: ``{"access_token": ...}``."""
    state = state_of(request)
    header = request.headers.get("authorization", "")
    if state.auth is None:
        user = LOCAL_USER
    elif not header.lower().startswith("basic "):
        raise AuthenticationRequired(
            "Send your user name and password with HTTP Basic to get an access token"
        )
    else:
        try:  # checked before routing, off the event loop, and counted once
            user = current_user(request)
        except LoginThrottled:
            raise
        except AuthenticationFailed as exc:
            raise CredentialsInvalid(exc.message) from None
    token, _ = state.tokens.issue(user)
    return JSONResponse({"access_token": token}, headers={"Cache-Control": "no-store"})


async def me(request: Request) -> Response:
    """``GET /me``: the caller's id and links to their resources."""
    user = await user_of(request)
    base = api_url(request)
    return JSONResponse(
        {
            "user_id": user,
            "name": user,
            "links": [
                {"rel": "related", "href": f"{base}/jobs", "title": "Batch jobs"},
                {"rel": "related", "href": f"{base}/services", "title": "Web services"},
                {"rel": "related", "href": f"{base}/files", "title": "Files"},
            ],
        }
    )


API_PREFIX = "/openeo/1.2"
"""Where the 1.2 API is mounted."""


def api_url(request: Request) -> str:
    """The absolute URL of the 1.2 API root, without a trailing slash."""
    return str(request.base_url).rstrip("/").removesuffix(API_PREFIX) + API_PREFIX


def server_url(request: Request) -> str:
    """The absolute URL of the server root, without a trailing slash."""
    return str(request.base_url).rstrip("/").removesuffix(API_PREFIX)
