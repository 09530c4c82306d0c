"""OGC API errors: RFC 7807 problem details, a dialect of the one table in :mod:`services.errors`.

Every OGC API route answers an error as ``application/problem+json``::

    {"type": "...", "title": "Bad Request", "status": 400, "detail": "...",
     "code": "SubsetInvalid", "description": "...", "message": "...", "error_code": 1234}

``type``/``title``/``status``/``detail`` are RFC 7807's; ``code``/``description`` the
OGC API exception fields (the code names the engine error); ``message`` and the
numeric ``error_code`` what every other JSON endpoint of this server sends. The
status and headers come from the table's row of the error.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import OnDemandError

from ..errors import error_headers, status_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
EXCEPTION_TYPE = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0/"
"""Base of the ``type`` URI (OGC API – Common exception codes, the status appended)."""


def problem(
    code: str,
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
    number: int | None = None,
) -> Response:
    """A problem-details response for ``status`` (``number``: the engine's numeric code)."""
    body: dict[str, object] = {
        "type": f"{EXCEPTION_TYPE}{status}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "code": code,
        "description": message,
        "message": message,
    }
    if number is not None:
        body["error_code"] = number
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_report(request: Request, exc: Exception) -> Response:
    """The protocol's error dialect: an engine error as problem details (others re-raise)."""
    if not isinstance(exc, OnDemandError):
        raise exc
    return problem(type(exc).__name__, exc.message, status_of(exc), error_headers(exc), exc.code)
