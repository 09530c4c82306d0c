"""The one mapping from engine errors to HTTP statuses and JSON error bodies."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from ondemand import errors

log = logging.getLogger("ondemand")

STATUS: dict[type[errors.OnDemandError], int] = {
    errors.ResourceNotFound: 404,
    errors.PixelLimitExceeded: 413,
    errors.RequestTooLarge: 413,
    errors.AuthenticationRequired: 401,
    errors.AuthenticationFailed: 403,
    errors.EvaluationTimedOut: 413,
    errors.ServerBusy: 503,
}
"""HTTP status per error type; every other engine error is the client's: 400."""


def status_of(exc: errors.OnDemandError) -> int:
    """HTTP status of an engine error."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_response(code: int | str, message: str, status: int) -> JSONResponse:
    """A JSON error body ``{"code", "message"}`` with the given status."""
    return JSONResponse({"code": code, "message": message}, status_code=status)


async def handle_engine_error(request: Request, exc: Exception) -> Response:
    """Answer an engine error with its status and code."""
    assert isinstance(exc, errors.OnDemandError)
    response = error_response(exc.code, exc.message, status_of(exc))
    response.headers.update(error_headers(exc))
    return response


def error_headers(exc: errors.OnDemandError) -> dict[str, str]:
    """Headers an error needs on any endpoint: an auth challenge, a retry delay."""
    if isinstance(exc, errors.AuthenticationRequired):
        return {"WWW-Authenticate": 'Basic realm="ondemand", charset="UTF-8"'}
    if isinstance(exc, errors.ServerBusy):
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return {}


RETRY_AFTER_SECONDS = 2
"""What a busy server asks clients to wait before retrying."""


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Answer starlette's HTTP errors (404 route, 405 method) as JSON errors."""
    assert isinstance(exc, HTTPException)
    headers = getattr(exc, "headers", None)
    response = error_response(exc.status_code, str(exc.detail), exc.status_code)
    if headers:
        response.headers.update(headers)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Answer a bug: log it with its traceback, 500 with a generic message."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error; this is a bug, please report it.", 500)


async def handle_disconnect(request: Request, exc: Exception) -> Response:
    """A client that went away mid-body: nobody reads the answer, and it is no bug."""
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=400)


EXCEPTION_HANDLERS = {
    errors.OnDemandError: handle_engine_error,
    HTTPException: handle_http_error,
    ClientDisconnect: handle_disconnect,
    Exception: handle_unexpected,
}
