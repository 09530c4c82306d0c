"""WCS 1.0.0 and 2.0.1 on ``/services/{id}/wcs``: version dispatch, operations, exceptions.

Every GetCoverage is one window for the shared evaluator. A 1.0 request answers a
``ServiceExceptionReport`` 1.2.0 on error, a 2.0 request an ``ows:ExceptionReport``
2.0 with the codes and statuses of WCS 2.0 core and its CRS and scaling extensions.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from ondemand import errors
from ondemand.coverage import (
    Coverage,
    RangeType,
    coverage_of,
    probe_range,
    read_coverage,
    window_for,
)
from ondemand.engine import Engine
from ondemand.formats import encode, parse_output
from ondemand.layer import Layer
from ondemand.window import Window

from ...published import published_of
from ...state import run_blocking, run_evaluation, state_of
from ..common import XML_MEDIA_TYPE, Kvp, OWSException, as_ogc, exception_response, invalid, missing
from . import v10 as wcs10
from . import v20 as wcs20
from .subsets import coverage_request

Version = Literal["1.0.0", "2.0.1"]
VERSIONS: dict[str, Version] = {"1.0.0": "1.0.0", "2.0.1": "2.0.1", "2.0.0": "2.0.1"}
"""VERSION values understood; 2.0.0 (the draft's syntax) is served as 2.0.1."""
OPERATIONS = ("GetCapabilities", "DescribeCoverage", "GetCoverage")
GEOTIFF = parse_output({"format": "GTiff"})


def range_type(engine: Engine, layer: Layer) -> RangeType:
    """The layer's range type (bands, dtype), probed on a few pixels once per layer."""
    return layer.derived("range_type", lambda: probe_range(engine, layer))


async def wcs(request: Request) -> Response:
    """``GET /services/{id}/wcs``: GetCapabilities, DescribeCoverage or GetCoverage."""
    kvp = Kvp.of(request.query_params)
    published = published_of(request)
    default = VERSIONS.get(str(published.service.args.get("VERSION", "2.0.1")), "2.0.1")
    version = _negotiate(kvp, default)
    request.state.wcs_version = version
    operation = _operation(kvp)
    state = state_of(request)
    ranges = await run_blocking(request, range_type, state.engine, published.layer)
    coverage = coverage_of(published.layer, ranges)
    url = str(request.url.remove_query_params(list(request.query_params.keys())))
    if operation == "GetCapabilities":
        return _capabilities(coverage, url, version)
    if operation == "DescribeCoverage":
        return _describe(coverage, kvp, version)
    return await _get_coverage(request, coverage, kvp, version)


def error_report(request: Request, exc: Exception) -> Response:
    """WCS errors in the request's version: ``ServiceExceptionReport`` 1.2.0 for 1.0.0,
    an OWS 2.0 ``ows:ExceptionReport`` for 2.0.1 (before negotiation: the version hinted)."""
    version = getattr(request.state, "wcs_version", None) or _hint(Kvp.of(request.query_params))
    if version == "1.0.0":
        return wcs10.service_exception_response(as_ogc(exc, "wcs10"))
    asked = Kvp.of(request.query_params).get("VERSION") or ""
    if asked.startswith("1.1"):  # a WCS 1.1 client reads OWS 1.1 exception reports
        return exception_response(as_ogc(exc, "wcs20"), version=asked, ows="1.1")
    return exception_response(as_ogc(exc, "wcs20"), version="2.0.1", ows="2.0")


def _hint(kvp: Kvp) -> Version:
    """The version whose exception format a request gets before it is fully parsed."""
    text = kvp.get("VERSION") or ""
    if text in VERSIONS:
        return VERSIONS[text]
    return "1.0.0" if "COVERAGE" in kvp and "COVERAGEID" not in kvp else "2.0.1"


def _negotiate(kvp: Kvp, default: Version) -> Version:
    """The version of a request (VERSION; for GetCapabilities ACCEPTVERSIONS or ``default``).

    A GetCapabilities whose ACCEPTVERSIONS names only versions we do not speak is answered
    in ``default`` (OWS version negotiation); one whose VERSION is one we do not speak (a
    WCS 1.1 client such as OWSLib's 1.1 reader, which cannot read 2.0.1 capabilities) gets
    ``VersionNegotiationFailed`` naming the versions offered. Other requests need a
    VERSION we speak.
    """
    capabilities = (kvp.get("REQUEST") or "").lower() == "getcapabilities"
    text = kvp.get("VERSION")
    if text is not None and text in VERSIONS:
        return VERSIONS[text]
    if capabilities:
        accept = kvp.get("ACCEPTVERSIONS")
        for accepted in (accept or "").split(","):
            if accepted.strip() in VERSIONS:
                return VERSIONS[accepted.strip()]
        if text is not None and accept is None:
            raise OWSException(
                "VersionNegotiationFailed",
                f"WCS {text} is not offered here; this server speaks WCS 2.0.1 and 1.0.0 "
                "(ask VERSION=2.0.1 or VERSION=1.0.0)",
                "VERSION",
            )
        return default
    if text is None:
        raise missing("VERSION", "WCS needs VERSION=1.0.0 or VERSION=2.0.1")
    raise invalid("VERSION", f"VERSION={text!r} is not supported; use 1.0.0 or 2.0.1")


def _operation(kvp: Kvp) -> str:
    service = kvp.require("SERVICE")
    if service.upper() != "WCS":
        raise invalid("SERVICE", f"SERVICE={service!r}: this endpoint serves WCS")
    name = kvp.require("REQUEST")
    for operation in OPERATIONS:
        if name.lower() == operation.lower():
            return operation
    raise OWSException(
        "OperationNotSupported",
        f"REQUEST={name!r} is not a WCS operation here; use {', '.join(OPERATIONS)}",
        "REQUEST",
    )


def _xml(body: bytes) -> Response:
    return Response(body, media_type=XML_MEDIA_TYPE)


def _capabilities(coverage: Coverage, url: str, version: Version) -> Response:
    if version == "1.0.0":
        return _xml(wcs10.capabilities(coverage, url))
    return _xml(wcs20.capabilities(coverage, url))


def _describe(coverage: Coverage, kvp: Kvp, version: Version) -> Response:
    if version == "1.0.0":
        names = [n.strip() for n in (kvp.get("COVERAGE") or coverage.id).split(",")]
        for name in names:
            _check_coverage(coverage, name)
        return _xml(wcs10.describe(coverage))
    text = kvp.get("COVERAGEID")
    if text is None:
        raise OWSException(
            "EmptyCoverageIdList", "DescribeCoverage needs COVERAGEID", "COVERAGEID"
        )
    for name in (n.strip() for n in text.split(",")):
        _check_coverage(coverage, name)
    return _xml(wcs20.describe([coverage for _ in text.split(",")]))


def _check_coverage(coverage: Coverage, name: str) -> None:
    if not coverage.matches(name):
        raise errors.CoverageNotFound(
            f"No coverage {name!r} in this service; its coverage is {coverage.id!r}"
        )


async def _get_coverage(
    request: Request, coverage: Coverage, kvp: Kvp, version: Version
) -> Response:
    if version == "1.0.0":
        _check_coverage(coverage, kvp.require("COVERAGE"))
        window = wcs10.get_coverage_window(coverage, kvp)
    else:
        _check_coverage(coverage, kvp.require("COVERAGEID"))
        query = wcs20.get_coverage_request(kvp)
        window = window_for(coverage, coverage_request(coverage, query))
    engine = state_of(request).engine
    content = await run_evaluation(request, _render, engine, coverage, window)
    return Response(
        content,
        media_type="image/tiff",
        headers={"Content-Disposition": f'inline; filename="{coverage.id}.tif"'},
    )


def _render(engine: Engine, coverage: Coverage, window: Window) -> bytes:
    """Evaluate and encode one window as GeoTIFF (blocking)."""
    return encode(read_coverage(engine, coverage, window), GEOTIFF, stem=coverage.id).content
