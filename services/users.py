"""Who is calling. Until user accounts exist, every caller is the single local user."""

from __future__ import annotations

from starlette.requests import Request

LOCAL_USER = "local"


def current_user(request: Request) -> str:
    """The calling user's id."""
    return LOCAL_USER


def resolve_user(request: Request, user_id: str) -> str:
    """A user id from a path: ``me`` means the caller."""
    return current_user(request) if user_id == "me" else user_id
