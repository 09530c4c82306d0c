"""Who is calling: the authenticated user, or the single local user when no accounts exist."""

from __future__ import annotations

from starlette.requests import Request

from ondemand.errors import OnDemandError

from .state import state_of

LOCAL_USER = "local"


def current_user(request: Request) -> str:
    """The calling user's id (AuthenticationRequired/Failed when accounts exist and it fails).

    The result is remembered on the request, so several lookups cost one check.
    """
    cached = getattr(request.state, "user_id", None)
    if isinstance(cached, str):
        return cached
    failed = getattr(request.state, "auth_error", None)
    if isinstance(failed, OnDemandError):
        raise failed
    auth = state_of(request).auth
    client = request.client.host if request.client else ""
    user = LOCAL_USER if auth is None else auth.user(request.headers.get("authorization"),
                                                     client)
    request.state.user_id = user
    return user


def resolve_user(request: Request, user_id: str) -> str:
    """A user id from a path: ``me`` means the caller."""
    return current_user(request) if user_id == "me" else user_id
