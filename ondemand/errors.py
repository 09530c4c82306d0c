"""One flat error hierarchy for the engine.

Each error carries the numeric code of the API draft's error table (``code``) and
a message a user can act on. HTTP statuses and OGC exception codes are decided in
``services/errors.py`` from the error type, never here.
"""

from __future__ import annotations


class OnDemandError(Exception):
    """Root of every error the engine raises on purpose."""

    code: int = 0

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProcessGraphMissing(OnDemandError, ValueError):
    """The request carries no process graph."""

    code = 2001


class ProcessGraphInvalid(OnDemandError, ValueError):
    """The process graph's structure is invalid (shape, cycle, dangling reference, size)."""

    code = 2002


class ProcessUnsupported(OnDemandError, ValueError):
    """A node names a process the server does not have."""

    code = 2101


class ArgumentUnsupported(OnDemandError, ValueError):
    """A node passes an argument its process does not declare."""

    code = 2102


class ArgumentInvalid(OnDemandError, ValueError):
    """An argument has a value of the wrong type or out of range."""

    code = 2103


class ArgumentMissing(OnDemandError, ValueError):
    """A required argument is missing."""

    code = 2104


class CollectionNotFound(OnDemandError, LookupError):
    """No collection has the requested id."""

    code = 1201


class BandNotFound(OnDemandError, LookupError):
    """A collection has no band of the requested name or id."""

    code = 1202


class InvalidCRS(OnDemandError, ValueError):
    """A CRS string cannot be understood."""

    code = 601


class OutOfBounds(OnDemandError, ValueError):
    """A coordinate, bounding box or date range lies outside what is valid or available."""

    code = 602


class NoData(OnDemandError, LookupError):
    """The request selects no data at all (no item under the bbox and dates)."""

    code = 1203


class OutputFormatUnsupported(OnDemandError, ValueError):
    """The requested output format is not available."""

    code = 3001


class OutputOptionUnsupported(OnDemandError, ValueError):
    """An output format option is unknown."""

    code = 3002


class OutputOptionInvalid(OnDemandError, ValueError):
    """An output format option has an invalid value or an impossible combination."""

    code = 3003


class PixelLimitExceeded(OnDemandError, ValueError):
    """A synchronous request asks for more pixels than the configured limit."""

    code = 10001


class TileOutOfRange(OnDemandError, ValueError):
    """A tile's zoom level, column or row lies outside its tile matrix set."""

    code = 10003


class ResourceNotFound(OnDemandError, LookupError):
    """A job, service, file or other resource does not exist (or is not the caller's)."""

    code = 404


class CatalogInvalid(OnDemandError, ValueError):
    """A STAC catalog given to the server cannot be loaded."""

    code = 10002


class RequestTooLarge(OnDemandError, ValueError):
    """A request body or upload is over the configured size."""

    code = 413


class AuthenticationRequired(OnDemandError, PermissionError):
    """The request carries no credentials but the resource needs them."""

    code = 401


class AuthenticationFailed(OnDemandError, PermissionError):
    """The credentials or token are wrong, expired or revoked."""

    code = 4002


class LoginThrottled(AuthenticationFailed):
    """Too many failed logins from one address or for one user name; retry later."""

    code = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FilePathInvalid(OnDemandError, ValueError):
    """A user-file path is not allowed (traversal, absolute, control characters, too long)."""

    code = 1400


class FileContentInvalid(OnDemandError, ValueError):
    """A user file cannot be read as what it should be (e.g. not a polygon file)."""

    code = 1412


class FileTooLarge(RequestTooLarge):
    """An upload is over the configured size of one file."""

    code = 1411


class QuotaExceeded(RequestTooLarge):
    """An upload would take the user's files over their storage quota."""

    code = 507


class EvaluationTimedOut(OnDemandError, TimeoutError):
    """A synchronous evaluation ran past the configured time-out."""

    code = 10004


class ServerBusy(OnDemandError, RuntimeError):
    """Too many evaluations are running or waiting; retry shortly."""

    code = 503


class StoreUnavailable(ServerBusy):
    """The shared job store (PostgreSQL) cannot be reached right now; retry shortly."""


class StoreConfigInvalid(OnDemandError, ValueError):
    """A ``--store`` or ``--results`` location cannot be used (unknown scheme, bad URL)."""

    code = 400


class ResultStorageFailed(ServerBusy):
    """Batch results cannot be written to or read from their storage (folder, bucket)."""


class FileStorageFailed(ServerBusy):
    """Users' files cannot be written to or read from their bucket right now."""


class JobNotFinished(OnDemandError, ValueError):
    """A job's batch results are asked for before its batch run has finished."""

    code = 428


class StateInvalid(OnDemandError, RuntimeError):
    """A file of the server's own state cannot be used; the server does not start on it."""

    code = 500


class CoverageNotFound(ResourceNotFound):
    """No coverage of the requested identifier (WCS NoSuchCoverage / CoverageNotDefined)."""


class AxisLabelInvalid(ArgumentInvalid):
    """A subset or scaling names an axis the coverage does not have (InvalidAxisLabel)."""


class SubsetInvalid(OutOfBounds):
    """A trim or slice lies outside the coverage or is inverted (InvalidSubsetting)."""


class ScaleInvalid(ArgumentInvalid):
    """A scale factor, size or extent is not positive or names no axis (InvalidScaleFactor)."""


class JobModeConflict(OnDemandError, ValueError):
    """A job asked to run in one mode while it runs (or holds results) in the other."""

    code = 10005


class CredentialsInvalid(AuthenticationFailed):
    """A user name and password that do not match (as opposed to a bad or expired token)."""


class AuthenticationSchemeInvalid(AuthenticationFailed):
    """An Authorization header of a scheme or method the endpoint does not take."""


class ServiceUnsupported(ArgumentInvalid):
    """A secondary web service of a type the server does not offer."""


class ServiceConfigInvalid(ArgumentInvalid):
    """A service configuration parameter that is unknown or has an invalid value."""


class RegistrationDisabled(OnDemandError, PermissionError):
    """``POST /auth/register`` on a server started without ``--allow-registration``."""

    code = 403


class RemoteUnavailable(OnDemandError, ConnectionError):
    """A STAC API or remote catalog cannot be reached or answers with an error; retry later."""

    code = 10006


class AssetUnreadable(OnDemandError, OSError):
    """An item's asset cannot be read: unreachable, forbidden, missing or corrupt."""

    code = 10007
