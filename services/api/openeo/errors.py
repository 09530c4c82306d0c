"""Errors in openEO 1.x's shape: ``{"id", "code": "<string>", "message", "links"}``.

Each engine error's openEO code is its row's in the one error table
(``services/errors.py``); :data:`OPENEO_STATUS` gives each code its HTTP status (the codes
of openeo-api's ``errors.json``; process exceptions keep the names the openEO process
definitions give them). A missing resource gets the code of what
the path names (JobNotFound, ServiceNotFound, FileNotFound, ...).
"""

from __future__ import annotations

import logging
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ondemand import errors

from ...errors import error_headers, error_row

log = logging.getLogger("ondemand")

OPENEO_STATUS: dict[str, int] = {
    "ProcessGraphMissing": 400,
    "ProcessGraphInvalid": 400,
    "ProcessUnsupported": 400,
    "ProcessParameterUnsupported": 400,
    "ProcessParameterRequired": 400,
    "ProcessParameterInvalid": 400,
    "CollectionNotFound": 404,
    "NoDataAvailable": 400,
    "FormatUnsupported": 400,
    "FormatArgumentUnsupported": 400,
    "FormatArgumentInvalid": 400,
    "ProcessGraphComplexity": 400,
    "NotFound": 404,
    "Internal": 500,
    "FileSizeExceeded": 400,
    "StorageQuotaExceeded": 400,
    "PayloadTooLarge": 413,
    "AuthenticationRequired": 401,
    "CredentialsInvalid": 403,
    "AuthenticationSchemeInvalid": 403,
    "TokenInvalid": 403,
    "PermissionsInsufficient": 403,
    "ServiceUnsupported": 400,
    "ServiceConfigInvalid": 400,
    "FilePathInvalid": 400,
    "FileContentInvalid": 400,
    "RequestTimeout": 408,
    "InfrastructureBusy": 503,
    "RemoteUnavailable": 503,
    "AssetUnreadable": 502,
    "JobNotFinished": 400,
    "JobLocked": 400,
    "BadRequest": 400,
    "TooManyRequests": 429,
}
"""HTTP status of each openEO code, as openeo-api's ``errors.json`` gives it (codes it
does not list: the status their meaning calls for)."""

NOT_FOUND_BY_PATH: tuple[tuple[str, str], ...] = (
    ("/jobs/", "JobNotFound"),
    ("/services/", "ServiceNotFound"),
    ("/files/", "FileNotFound"),
    ("/collections/", "CollectionNotFound"),
    ("/process_graphs/", "ProcessGraphNotFound"),
)
"""The specific openEO not-found code of a path under the API root."""

HTTP_CODES = {401: "AuthenticationRequired", 404: "NotFound", 405: "MethodNotAllowed"}


def openeo_code(exc: errors.OnDemandError) -> tuple[str, int]:
    """The openEO code (from the one error table) and openEO's HTTP status for it."""
    code = error_row(exc).openeo
    return code, OPENEO_STATUS[code]


def error_body(code: str, message: str, status: int) -> JSONResponse:
    """A 1.x error response with a fresh id for the logs."""
    error_id = secrets.token_hex(8)
    if status >= 500:
        log.warning("openEO error %s (%s): %s", error_id, code, message)
    return JSONResponse(
        {"id": error_id, "code": code, "message": message, "links": []}, status_code=status
    )


def _not_found_code(request: Request, code: str) -> str:
    """A specific not-found code for the resource the path names."""
    if code != "NotFound":
        return code
    path = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    inner = path[len(root):] if root and path.startswith(root) else path
    for prefix, specific in NOT_FOUND_BY_PATH:
        if inner.startswith(prefix):
            return specific
    return code


async def handle_engine_error(request: Request, exc: Exception) -> Response:
    """Answer an engine error in the 1.x shape."""
    assert isinstance(exc, errors.OnDemandError)
    code, status = openeo_code(exc)
    if status == 404:
        code = _not_found_code(request, code)
    response = error_body(code, exc.message, status)
    headers = error_headers(exc)
    headers.pop("WWW-Authenticate", None)
    response.headers.update(headers)
    return response


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Answer starlette's HTTP errors (unknown path, wrong method) in the 1.x shape."""
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "BadRequest")
    if exc.status_code == 404:
        code = "NotFound"
        detail = f"No endpoint {request.method} {request.url.path} in openEO API 1.2"
    else:
        detail = str(exc.detail)
    response = error_body(code, detail, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, answered as openEO's Internal error."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_body("Internal", "Server error: this is a bug, please report it.", 500)


async def handle_disconnect(request: Request, exc: Exception) -> Response:
    """A client that went away mid-body: nobody reads the answer."""
    return Response(status_code=400)


HANDLERS = {
    errors.OnDemandError: handle_engine_error,
    HTTPException: handle_http_error,
    ClientDisconnect: handle_disconnect,
    Exception: handle_unexpected,
}


class OpenEOErrors:
    """ASGI wrapper of the 1.x routes: their errors answer in 1.x's shape.

    Endpoints read their exception handlers from the scope, so setting them here
    covers every route below; errors the router raises itself (unknown path) are
    caught here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope`` with 1.x error handlers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = (HANDLERS, {})
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            if started:
                raise
            request = Request(scope, receive)
            handler = next(h for k, h in HANDLERS.items() if isinstance(exc, k))
            response = await handler(request, exc)
            await response(scope, receive, send)
