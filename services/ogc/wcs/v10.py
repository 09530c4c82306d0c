"""WCS 1.0.0 documents: capabilities, coverage description, ServiceExceptionReport 1.2.0.

``gml:origin`` of the RectifiedGrid is the centre of the first (top-left) pixel and
the ``gml:Envelope`` holds pixel edges, as GDAL and QGIS read them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from rasterio.crs import CRS
from starlette.responses import Response

from ondemand.coverage import Coverage, window_10
from ondemand.errors import InvalidCRS, OutputFormatUnsupported
from ondemand.window import Bounds, Window, parse_crs

from ..common import Kvp, OWSException, invalid, missing, sub_element, xml_bytes, xml_number
from .axes import crs_code, iso
from .subsets import times_10

WCS = "http://www.opengis.net/wcs"
GML = "http://www.opengis.net/gml"
XLINK = "http://www.w3.org/1999/xlink"
OGC = "http://www.opengis.net/ogc"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SE_MEDIA_TYPE = "application/vnd.ogc.se_xml"
FORMATS = ("GeoTIFF", "GTiff", "image/tiff")
"""FORMAT values GetCoverage accepts (all GeoTIFF); the first is advertised."""
RESPONSE_CRSS = ("EPSG:4326", "EPSG:3857")
"""CRSs offered beside each coverage's native one (any EPSG code is accepted)."""


def _root(tag: str) -> ET.Element:
    return ET.Element(
        tag,
        {
            "xmlns": WCS,
            "xmlns:gml": GML,
            "xmlns:xlink": XLINK,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{WCS} http://schemas.opengis.net/wcs/1.0.0/"
            + ("wcsCapabilities.xsd" if tag == "WCS_Capabilities" else "describeCoverage.xsd"),
            "version": "1.0.0",
        },
    )


def _lon_lat_envelope(parent: ET.Element, coverage: Coverage) -> None:
    west, south, east, north = coverage.layer.bounds_wgs84
    envelope = sub_element(parent, "lonLatEnvelope", srsName="urn:ogc:def:crs:OGC:1.3:CRS84")
    sub_element(envelope, "gml:pos", f"{xml_number(west)} {xml_number(south)}")
    sub_element(envelope, "gml:pos", f"{xml_number(east)} {xml_number(north)}")
    if coverage.times:
        sub_element(envelope, "gml:timePosition", iso(coverage.times[0]))
        sub_element(envelope, "gml:timePosition", iso(coverage.times[-1]))


def capabilities(coverage: Coverage, url: str) -> bytes:
    """``WCS_Capabilities`` 1.0.0 for the one coverage of a service at ``url``."""
    root = _root("WCS_Capabilities")
    service = sub_element(root, "Service")
    sub_element(service, "name", "WCS")
    sub_element(service, "label", f"ondemand WCS: {coverage.title}")
    sub_element(service, "fees", "NONE")
    sub_element(service, "accessConstraints", "NONE")
    capability = sub_element(root, "Capability")
    request = sub_element(capability, "Request")
    for operation in ("GetCapabilities", "DescribeCoverage", "GetCoverage"):
        http = sub_element(sub_element(sub_element(request, operation), "DCPType"), "HTTP")
        sub_element(sub_element(http, "Get"), "OnlineResource", **{"xlink:href": f"{url}?"})
    sub_element(sub_element(capability, "Exception"), "Format", SE_MEDIA_TYPE)
    brief = sub_element(sub_element(root, "ContentMetadata"), "CoverageOfferingBrief")
    sub_element(brief, "description", f"Result of job {coverage.job_id}, computed on request")
    sub_element(brief, "name", coverage.id)
    sub_element(brief, "label", coverage.title)
    _lon_lat_envelope(brief, coverage)
    return xml_bytes(root)


def describe(coverage: Coverage) -> bytes:
    """``CoverageDescription`` 1.0.0: grid, dates, bands, CRSs, formats."""
    root = _root("CoverageDescription")
    offering = sub_element(root, "CoverageOffering")
    sub_element(offering, "description", f"Result of job {coverage.job_id}, computed on request")
    sub_element(offering, "name", coverage.id)
    sub_element(offering, "label", coverage.title)
    _lon_lat_envelope(offering, coverage)
    domain = sub_element(offering, "domainSet")
    _spatial_domain(sub_element(domain, "spatialDomain"), coverage)
    if coverage.times:
        temporal = sub_element(domain, "temporalDomain")
        for moment in coverage.times:
            sub_element(temporal, "gml:timePosition", iso(moment))
    _range_set(offering, coverage)
    native = crs_code(coverage.crs)
    crss = sub_element(offering, "supportedCRSs")
    others = [c for c in RESPONSE_CRSS if parse_crs(c) != coverage.crs]
    sub_element(crss, "requestResponseCRSs", " ".join([native, *others]))
    sub_element(crss, "nativeCRSs", native)
    formats = sub_element(offering, "supportedFormats", nativeFormat=FORMATS[0])
    sub_element(formats, "formats", FORMATS[0])
    interpolations = sub_element(offering, "supportedInterpolations", default="nearest neighbor")
    sub_element(interpolations, "interpolationMethod", "nearest neighbor")
    return xml_bytes(root)


def _spatial_domain(parent: ET.Element, coverage: Coverage) -> None:
    """Envelope (edges, x/y order as WCS 1.0 writes EPSG codes) and the rectified grid."""
    srs = crs_code(coverage.crs)
    left, bottom, right, top = coverage.bounds
    rx, ry = coverage.resolution
    envelope = sub_element(parent, "gml:Envelope", srsName=srs)
    sub_element(envelope, "gml:pos", f"{xml_number(left)} {xml_number(bottom)}")
    sub_element(envelope, "gml:pos", f"{xml_number(right)} {xml_number(top)}")
    grid = sub_element(parent, "gml:RectifiedGrid", dimension="2", srsName=srs)
    limits = sub_element(sub_element(grid, "gml:limits"), "gml:GridEnvelope")
    sub_element(limits, "gml:low", "0 0")
    sub_element(limits, "gml:high", f"{coverage.width - 1} {coverage.height - 1}")
    sub_element(grid, "gml:axisName", "x")
    sub_element(grid, "gml:axisName", "y")
    origin = sub_element(grid, "gml:origin")
    sub_element(origin, "gml:pos", f"{xml_number(left + rx / 2)} {xml_number(top - ry / 2)}")
    sub_element(grid, "gml:offsetVector", f"{xml_number(rx)} 0.0")
    sub_element(grid, "gml:offsetVector", f"0.0 {xml_number(-ry)}")


def _range_set(parent: ET.Element, coverage: Coverage) -> None:
    """One RangeSet whose ``Band`` axis lists the band names; the nodata value."""
    range_set = sub_element(sub_element(parent, "rangeSet"), "RangeSet")
    sub_element(range_set, "name", "values")
    sub_element(range_set, "label", f"{coverage.range.dtype} values")
    axis = sub_element(sub_element(range_set, "axisDescription"), "AxisDescription")
    sub_element(axis, "name", "Band")
    sub_element(axis, "label", "Bands")
    values = sub_element(axis, "values")
    for band in coverage.range.bands:
        sub_element(values, "singleValue", band)
    nulls = sub_element(range_set, "nullValues")
    nodata = coverage.range.nodata
    sub_element(nulls, "singleValue", "NaN" if nodata != nodata else str(nodata))


def exception_report(exceptions: Iterable[OWSException]) -> bytes:
    """A ``ServiceExceptionReport`` 1.2.0 of ``exceptions`` (WCS 1.0's error dialect)."""
    root = ET.Element(
        "ServiceExceptionReport",
        {
            "xmlns": OGC,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{OGC} http://schemas.opengis.net/wcs/1.0.0/OGC-exception.xsd",
            "version": "1.2.0",
        },
    )
    for exc in exceptions:
        attrs: dict[str, str] = {"code": exc.code}
        if exc.locator:
            attrs["locator"] = exc.locator
        sub_element(root, "ServiceException", exc.message, **attrs)
    return xml_bytes(root)


def service_exception_response(exc: OWSException) -> Response:
    """An HTTP response carrying one exception in a ``ServiceExceptionReport``."""
    return Response(
        exception_report([exc]), exc.http_status, media_type=SE_MEDIA_TYPE, headers=exc.headers
    )


def get_coverage_window(coverage: Coverage, kvp: Kvp) -> Window:
    """The window of a 1.0 GetCoverage: CRS, BBOX, RESPONSE_CRS, WIDTH/HEIGHT or RESX/RESY, TIME.

    FORMAT must be GeoTIFF (``OutputFormatUnsupported`` otherwise); unknown
    parameters (INTERPOLATION, EXCEPTIONS, vendor ones) are ignored.
    """
    text = kvp.require("FORMAT")
    if text.lower() not in {f.lower() for f in FORMATS}:
        raise OutputFormatUnsupported(
            f"FORMAT={text!r} is not supported; use {FORMATS[0]} (or image/tiff)"
        )
    crs = _crs(kvp, "CRS", kvp.require("CRS"))
    named = kvp.get("RESPONSE_CRS")
    response = None if named is None else _crs(kvp, "RESPONSE_CRS", named)
    bbox = _bbox(kvp.require("BBOX"))
    size = resolution = None
    if "WIDTH" in kvp or "HEIGHT" in kvp:
        size = (kvp.integer("WIDTH", 1), kvp.integer("HEIGHT", 1))
    elif "RESX" in kvp or "RESY" in kvp:
        resolution = (_positive(kvp, "RESX"), _positive(kvp, "RESY"))
    else:
        raise missing("WIDTH", "give WIDTH and HEIGHT, or RESX and RESY")
    times = times_10(coverage, kvp.get("TIME"))
    return window_10(
        coverage,
        crs=crs,
        bbox=bbox,
        response_crs=response,
        size=size,
        resolution=resolution,
        times=times,
    )


def _crs(kvp: Kvp, name: str, text: str) -> CRS:
    try:
        return parse_crs(text)
    except InvalidCRS as exc:
        raise invalid(name, exc.message) from None


def _bbox(text: str) -> Bounds:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (4, 6):
        raise invalid("BBOX", f"BBOX={text!r} is not minx,miny,maxx,maxy")
    if len(values) == 6:  # minx,miny,mint,maxx,maxy,maxt: the 3-D form
        values = [values[0], values[1], values[3], values[4]]
    left, bottom, right, top = values
    if not (right > left and top > bottom):
        raise invalid("BBOX", f"BBOX={text!r} is empty or inverted (minx,miny,maxx,maxy)")
    return left, bottom, right, top


def _positive(kvp: Kvp, name: str) -> float:
    text = kvp.require(name)
    try:
        value = float(text)
    except ValueError:
        raise invalid(name, f"{name}={text!r} is not a number") from None
    if not value > 0:
        raise invalid(name, f"{name}={text!r} must be positive")
    return value
