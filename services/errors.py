"""The one table from engine errors to HTTP statuses, openEO codes and OGC exception codes.

Every dialect renders from :data:`ERRORS`, looked up along the error's class
hierarchy (the nearest class listed wins): JSON errors here, OWS 1.1 (WMTS) and OWS
2.0 (WCS 2.0) exception reports in :mod:`services.ogc.common`, WCS 1.0's
``ServiceExceptionReport`` in :mod:`services.ogc.wcs.v10`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from ondemand import errors

log = logging.getLogger("ondemand")

ExceptionCode = Literal[
    "OperationNotSupported",
    "MissingParameterValue",
    "InvalidParameterValue",
    "VersionNegotiationFailed",
    "InvalidUpdateSequence",
    "OptionNotSupported",
    "TileOutOfRange",
    "PointIJOutOfRange",
    "NoApplicableCode",
    "NoSuchCoverage",
    "EmptyCoverageIdList",
    "InvalidAxisLabel",
    "InvalidSubsetting",
    "InvalidScaleFactor",
    "SubsettingCrs-NotSupported",
    "OutputCrs-NotSupported",
    "CoverageNotDefined",
    "InvalidFormat",
]

CODE_STATUS: dict[str, int] = {
    "OperationNotSupported": 501,
    "MissingParameterValue": 400,
    "InvalidParameterValue": 400,
    "VersionNegotiationFailed": 400,
    "InvalidUpdateSequence": 400,
    "OptionNotSupported": 501,
    "TileOutOfRange": 400,
    "PointIJOutOfRange": 400,
    "NoApplicableCode": 500,
    "NoSuchCoverage": 404,
    "EmptyCoverageIdList": 404,
    "InvalidAxisLabel": 404,
    "InvalidSubsetting": 404,
    "InvalidScaleFactor": 404,
    "SubsettingCrs-NotSupported": 501,
    "OutputCrs-NotSupported": 501,
    "CoverageNotDefined": 404,
    "InvalidFormat": 400,
}
"""HTTP status per exception code (WMTS 07-057r7 table 28, OWS 1.1 table 28, WCS 2.0 core
and its CRS and scaling extensions; WCS 1.0 codes as GDAL and QGIS expect them)."""

OgcDialect = Literal["ows", "wcs10", "wcs20"]
"""OGC exception codes: OWS 1.1 common (WMTS), WCS 1.0.0, WCS 2.0.1."""


@dataclass(frozen=True)
class OgcCode:
    """An OGC exception code, the parameter it blames, and its HTTP status.

    ``status`` None: the code's own status (:data:`CODE_STATUS`),
    except ``NoApplicableCode``, which takes the error's HTTP status.
    """

    code: ExceptionCode
    locator: str | None = None
    status: int | None = None


INVALID = OgcCode("InvalidParameterValue")
NO_CODE = OgcCode("NoApplicableCode")


@dataclass(frozen=True)
class ErrorRow:
    """How one error type answers in every dialect (WCS columns default to ``ows``)."""

    status: int
    openeo: str
    ows: OgcCode = INVALID
    wcs10: OgcCode | None = None
    wcs20: OgcCode | None = None

    def ogc(self, dialect: OgcDialect) -> OgcCode:
        """The OGC code of ``dialect``."""
        chosen = {"ows": self.ows, "wcs10": self.wcs10, "wcs20": self.wcs20}[dialect]
        return chosen if chosen is not None else self.ows


ERRORS: dict[type[errors.OnDemandError], ErrorRow] = {
    errors.OnDemandError: ErrorRow(400, "BadRequest"),
    errors.ProcessGraphMissing: ErrorRow(400, "ProcessGraphMissing"),
    errors.ProcessGraphInvalid: ErrorRow(400, "ProcessGraphInvalid"),
    errors.ProcessUnsupported: ErrorRow(400, "ProcessUnsupported"),
    errors.ArgumentUnsupported: ErrorRow(400, "ProcessParameterUnsupported"),
    errors.ArgumentInvalid: ErrorRow(400, "ProcessParameterInvalid"),
    errors.ArgumentMissing: ErrorRow(
        400, "ProcessParameterRequired", OgcCode("MissingParameterValue")
    ),
    errors.CollectionNotFound: ErrorRow(400, "CollectionNotFound"),
    errors.BandNotFound: ErrorRow(400, "ProcessParameterInvalid"),
    errors.InvalidCRS: ErrorRow(400, "ProcessParameterInvalid"),
    errors.OutOfBounds: ErrorRow(400, "ProcessParameterInvalid"),
    errors.NoData: ErrorRow(400, "NoDataAvailable"),
    errors.CatalogInvalid: ErrorRow(400, "Internal"),
    errors.ServiceUnsupported: ErrorRow(400, "ServiceUnsupported"),
    errors.ServiceConfigInvalid: ErrorRow(400, "ServiceConfigInvalid"),
    errors.OutputFormatUnsupported: ErrorRow(
        400, "FormatUnsupported", wcs10=OgcCode("InvalidFormat", "FORMAT")
    ),
    errors.OutputOptionUnsupported: ErrorRow(400, "FormatArgumentUnsupported"),
    errors.OutputOptionInvalid: ErrorRow(400, "FormatArgumentInvalid"),
    errors.TileOutOfRange: ErrorRow(400, "NotFound", OgcCode("TileOutOfRange")),
    errors.ResourceNotFound: ErrorRow(404, "NotFound", NO_CODE),
    errors.CoverageNotFound: ErrorRow(
        404,
        "NotFound",
        NO_CODE,
        wcs10=OgcCode("CoverageNotDefined", "COVERAGE"),
        wcs20=OgcCode("NoSuchCoverage", "COVERAGEID"),
    ),
    errors.AxisLabelInvalid: ErrorRow(
        400, "ProcessParameterInvalid", wcs20=OgcCode("InvalidAxisLabel", "SUBSET")
    ),
    errors.SubsetInvalid: ErrorRow(
        400,
        "ProcessParameterInvalid",
        wcs10=OgcCode("InvalidParameterValue", "TIME"),
        wcs20=OgcCode("InvalidSubsetting", "SUBSET"),
    ),
    errors.ScaleInvalid: ErrorRow(
        400, "ProcessParameterInvalid", wcs20=OgcCode("InvalidScaleFactor", "SCALE")
    ),
    errors.PixelLimitExceeded: ErrorRow(
        413, "ProcessGraphComplexity", NO_CODE,
        wcs10=OgcCode("InvalidParameterValue", "WIDTH", 413),
    ),
    errors.RequestTooLarge: ErrorRow(413, "PayloadTooLarge", NO_CODE),
    errors.FileTooLarge: ErrorRow(413, "FileSizeExceeded", NO_CODE),
    errors.QuotaExceeded: ErrorRow(413, "StorageQuotaExceeded", NO_CODE),
    errors.FilePathInvalid: ErrorRow(400, "FilePathInvalid"),
    errors.FileContentInvalid: ErrorRow(400, "FileContentInvalid"),
    errors.AuthenticationRequired: ErrorRow(401, "AuthenticationRequired", NO_CODE),
    errors.AuthenticationFailed: ErrorRow(403, "TokenInvalid", NO_CODE),
    errors.LoginThrottled: ErrorRow(429, "TooManyRequests", NO_CODE),
    errors.CredentialsInvalid: ErrorRow(403, "CredentialsInvalid", NO_CODE),
    errors.AuthenticationSchemeInvalid: ErrorRow(403, "AuthenticationSchemeInvalid", NO_CODE),
    errors.RegistrationDisabled: ErrorRow(403, "PermissionsInsufficient", NO_CODE),
    errors.EvaluationTimedOut: ErrorRow(413, "RequestTimeout", NO_CODE),
    errors.ServerBusy: ErrorRow(503, "InfrastructureBusy", NO_CODE),
    errors.RemoteUnavailable: ErrorRow(503, "RemoteUnavailable", NO_CODE),
    errors.AssetUnreadable: ErrorRow(502, "AssetUnreadable", NO_CODE),
    errors.JobNotFinished: ErrorRow(400, "JobNotFinished"),
    errors.JobModeConflict: ErrorRow(400, "JobLocked"),
}
"""Error type -> HTTP status (the draft API's), openEO code (the openEO adapter maps the
code to openEO's own status) and OGC codes; subclasses not listed inherit."""


def error_row(exc: errors.OnDemandError) -> ErrorRow:
    """The table row of ``exc``: its class's, else its nearest listed ancestor's."""
    for kind in type(exc).__mro__:
        row = ERRORS.get(kind)
        if row is not None:
            return row
    raise TypeError(f"{type(exc).__name__} is not an OnDemandError")


def status_of(exc: errors.OnDemandError) -> int:
    """HTTP status of an engine error."""
    return error_row(exc).status


def error_headers(exc: errors.OnDemandError) -> dict[str, str]:
    """Headers an error needs in any dialect: an auth challenge, a retry delay."""
    if isinstance(exc, errors.AuthenticationRequired):
        return {"WWW-Authenticate": 'Basic realm="ondemand", charset="UTF-8"'}
    if isinstance(exc, errors.ServerBusy | errors.RemoteUnavailable):
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if isinstance(exc, errors.LoginThrottled):
        return {"Retry-After": str(exc.retry_after)}
    return {}


RETRY_AFTER_SECONDS = 2
"""What a busy server (or one whose STAC API is down) asks clients to wait before
retrying."""


def error_response(code: int | str, message: str, status: int) -> JSONResponse:
    """A JSON error body ``{"code", "message"}`` with the given status."""
    return JSONResponse({"code": code, "message": message}, status_code=status)


async def handle_engine_error(request: Request, exc: Exception) -> Response:
    """Answer an engine error as JSON: its status and the draft's numeric code."""
    assert isinstance(exc, errors.OnDemandError)
    response = error_response(exc.code, exc.message, status_of(exc))
    response.headers.update(error_headers(exc))
    return response


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
