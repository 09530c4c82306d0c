"""The draft's reserved endpoints: UDF runtimes (none), credits (no billing), registration."""

from __future__ import annotations

import secrets
import threading

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ondemand.accounts import MIN_PASSWORD, AccountFile
from ondemand.errors import ArgumentInvalid, RegistrationDisabled, ResourceNotFound

from ..body import read_json
from ..state import run_blocking, state_of
from ..users import current_user

CREDITS = "Infinity"
"""``GET /credits``: this server does no accounting; the draft says such back-ends
"may simply return ``Infinity``"."""

_REGISTER_LOCK = threading.Lock()


async def udf_runtimes(request: Request) -> Response:
    """``GET /udf_runtimes``: no runtimes; user code is not run (docs/security.md says why)."""
    return JSONResponse([])


async def udf_description(request: Request) -> Response:
    """``GET /udf_runtimes/{lang}/{udf_type}``: 404, there are no UDF runtimes."""
    lang, kind = request.path_params["lang"], request.path_params["udf_type"]
    raise ResourceNotFound(
        f"No UDF runtime {lang!r} (type {kind!r}): this server runs no user-defined "
        "functions; GET /udf_runtimes lists none"
    )


async def credits_(request: Request) -> Response:
    """``GET /credits``: the constant ``Infinity`` (no billing)."""
    current_user(request)
    return PlainTextResponse(CREDITS)


async def register(request: Request) -> Response:
    """``POST /auth/register`` with a JSON string (the password): the new user id.

    Refused (403) unless the server runs with ``--allow-registration`` and a users file.
    """
    state = state_of(request)
    users_file = state.settings.users_file
    if not state.settings.allow_registration or users_file is None:
        raise RegistrationDisabled(
            "Registration is disabled on this server: ask its administrator for an account "
            "('ondemand users add'); the operator may allow it with --allow-registration "
            "and --users"
        )
    password = await read_json(request, 64 * 1024)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ArgumentInvalid(
            f"The body must be the new account's password as a JSON string of at least "
            f"{MIN_PASSWORD} characters"
        )
    user_id = await run_blocking(request, _add_account, AccountFile(users_file), password)
    return JSONResponse(user_id)


def _add_account(accounts: AccountFile, password: str) -> str:
    """Create an account with a fresh id (the draft's server-chosen user id)."""
    with _REGISTER_LOCK:
        existing = accounts.load()
        user_id = "u" + secrets.token_hex(6)
        while user_id in existing:
            user_id = "u" + secrets.token_hex(6)
        accounts.add(user_id, password)
    return user_id
