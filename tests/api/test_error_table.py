"""The one error table: every engine error has an HTTP status, an openEO code and OGC codes.

Rows are looked up along the class hierarchy; the expected values here are written
out independently (the draft's statuses, WMTS 07-057r7 table 28, WCS 2.0 core and
its extensions, WCS 1.0 as GDAL and QGIS read it).
"""

from __future__ import annotations

import inspect

import pytest

from ondemand import errors
from services.errors import ERRORS, error_row, status_of
from services.ogc.common import ogc_exception

ENGINE_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.OnDemandError)
]

OPENEO_CODES = {
    # openEO API errors.json (1.x)
    "NotFound", "CollectionNotFound", "FileNotFound", "FilePathInvalid", "FileSizeExceeded",
    "FileContentInvalid", "StorageQuotaExceeded", "ProcessGraphMissing", "ProcessGraphInvalid",
    "ProcessGraphComplexity", "ProcessUnsupported", "ProcessParameterUnsupported",
    "ProcessParameterInvalid", "ProcessParameterRequired", "JobNotFinished",
    "AuthenticationRequired", "TokenInvalid", "RequestTimeout", "InfrastructureBusy",
    "CredentialsInvalid", "AuthenticationSchemeInvalid", "ServiceUnsupported",
    "ServiceConfigInvalid", "JobLocked", "Internal", "PermissionsInsufficient",
    # openEO 1.0's output format errors
    "FormatUnsupported", "FormatArgumentUnsupported", "FormatArgumentInvalid",
}
PROPRIETARY = {
    "BadRequest", "NoDataAvailable", "PayloadTooLarge", "RemoteUnavailable", "AssetUnreadable",
    "TooManyRequests",
}
"""Codes of errors openEO has no code for."""

STATUS = {
    errors.ResourceNotFound: 404,
    errors.CoverageNotFound: 404,
    errors.PixelLimitExceeded: 413,
    errors.RequestTooLarge: 413,
    errors.FileTooLarge: 413,
    errors.QuotaExceeded: 413,
    errors.EvaluationTimedOut: 413,
    errors.AuthenticationRequired: 401,
    errors.AuthenticationFailed: 403,
    errors.CredentialsInvalid: 403,
    errors.AuthenticationSchemeInvalid: 403,
    errors.RegistrationDisabled: 403,
    errors.ServerBusy: 503,
    errors.StoreUnavailable: 503,
    errors.ResultStorageFailed: 503,
    errors.FileStorageFailed: 503,
    errors.RemoteUnavailable: 503,
    errors.AssetUnreadable: 502,
    errors.LoginThrottled: 429,
}
"""The draft API's statuses; every other engine error is the client's: 400."""


@pytest.mark.parametrize("cls", ENGINE_ERRORS, ids=lambda c: c.__name__)
def test_every_engine_error_has_a_row(cls: type[errors.OnDemandError]) -> None:
    exc = cls("x")
    assert status_of(exc) == STATUS.get(cls, 400)
    assert error_row(exc).openeo in OPENEO_CODES | PROPRIETARY
    nearest = next(kind for kind in cls.__mro__ if kind in ERRORS)
    assert error_row(exc) is ERRORS[nearest]


def test_rows_are_inherited_along_the_hierarchy() -> None:
    class Unlisted(errors.ArgumentMissing):
        """A new error type without a row of its own."""

    class Bare(errors.OnDemandError):
        """A new error type straight under the root."""

    assert error_row(Unlisted("x")) is ERRORS[errors.ArgumentMissing]
    assert error_row(Bare("x")) is ERRORS[errors.OnDemandError]
    assert error_row(errors.CoverageNotFound("x")) is not ERRORS[errors.ResourceNotFound]


@pytest.mark.parametrize(
    ("error", "dialect", "code", "locator", "status"),
    [
        (errors.ArgumentInvalid("x"), "ows", "InvalidParameterValue", "L", 400),
        (errors.ArgumentMissing("x"), "ows", "MissingParameterValue", "L", 400),
        (errors.TileOutOfRange("x"), "ows", "TileOutOfRange", "L", 400),
        (errors.ResourceNotFound("x"), "ows", "NoApplicableCode", "L", 404),
        (errors.ServerBusy("x"), "ows", "NoApplicableCode", "L", 503),
        (errors.AuthenticationRequired("x"), "ows", "NoApplicableCode", "L", 401),
        (errors.CoverageNotFound("x"), "wcs20", "NoSuchCoverage", "COVERAGEID", 404),
        (errors.AxisLabelInvalid("x"), "wcs20", "InvalidAxisLabel", "SUBSET", 404),
        (errors.SubsetInvalid("x"), "wcs20", "InvalidSubsetting", "SUBSET", 404),
        (errors.ScaleInvalid("x"), "wcs20", "InvalidScaleFactor", "SCALE", 404),
        (errors.PixelLimitExceeded("x"), "wcs20", "NoApplicableCode", "L", 413),
        (errors.OutputFormatUnsupported("x"), "wcs20", "InvalidParameterValue", "L", 400),
        (errors.CoverageNotFound("x"), "wcs10", "CoverageNotDefined", "COVERAGE", 404),
        (errors.OutputFormatUnsupported("x"), "wcs10", "InvalidFormat", "FORMAT", 400),
        (errors.PixelLimitExceeded("x"), "wcs10", "InvalidParameterValue", "WIDTH", 413),
        (errors.SubsetInvalid("x"), "wcs10", "InvalidParameterValue", "TIME", 400),
        (errors.AxisLabelInvalid("x"), "wcs10", "InvalidParameterValue", "L", 400),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_ogc_codes(
    error: errors.OnDemandError, dialect: str, code: str, locator: str, status: int
) -> None:
    mapped = ogc_exception(error, dialect, "L")  # type: ignore[arg-type]
    assert (mapped.code, mapped.locator, mapped.http_status, mapped.message) == (
        code, locator, status, "x")


def test_ogc_reports_carry_the_auth_challenge_and_retry_delay() -> None:
    challenge = ogc_exception(errors.AuthenticationRequired("x")).headers
    assert challenge["WWW-Authenticate"].startswith("Basic")
    assert ogc_exception(errors.ServerBusy("x")).headers["Retry-After"] == "2"
