"""WCS 1.0.0 documents: capabilities, coverage description, ServiceExceptionReport 1.2.0.

``gml:origin`` of the RectifiedGrid is the centre of the first (top-left) pixel and
the ``gml:Envelope`` holds pixel edges, as GDAL and QGIS read them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ondemand.coverage import Coverage, crs_code, iso, times_10, window_10
from ondemand.errors import InvalidCRS, OutputFormatUnsupported
from ondemand.window import Bounds, Window, parse_crs

from .ogc import Kvp, invalid, missing, xml_bytes

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
EXCEPTION_CODES = (
    "InvalidFormat",
    "CoverageNotDefined",
    "CurrentUpdateSequence",
    "InvalidUpdateSequence",
    "MissingParameterValue",
    "InvalidParameterValue",
)


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


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = text
    return node


def _num(value: float) -> str:
    return repr(float(value))


def _lon_lat_envelope(parent: ET.Element, coverage: Coverage) -> None:
    west, south, east, north = coverage.layer.bounds_wgs84
    envelope = _sub(parent, "lonLatEnvelope", srsName="urn:ogc:def:crs:OGC:1.3:CRS84")
    _sub(envelope, "gml:pos", f"{_num(west)} {_num(south)}")
    _sub(envelope, "gml:pos", f"{_num(east)} {_num(north)}")
    if coverage.times:
        _sub(envelope, "gml:timePosition", iso(coverage.times[0]))
        _sub(envelope, "gml:timePosition", iso(coverage.times[-1]))


def capabilities(coverage: Coverage, url: str) -> bytes:
    """``WCS_Capabilities`` 1.0.0 for the one coverage of a service at ``url``."""
    root = _root("WCS_Capabilities")
    service = _sub(root, "Service")
    _sub(service, "name", "WCS")
    _sub(service, "label", f"ondemand WCS: {coverage.title}")
    _sub(service, "fees", "NONE")
    _sub(service, "accessConstraints", "NONE")
    capability = _sub(root, "Capability")
    request = _sub(capability, "Request")
    for operation in ("GetCapabilities", "DescribeCoverage", "GetCoverage"):
        http = _sub(_sub(_sub(request, operation), "DCPType"), "HTTP")
        _sub(_sub(http, "Get"), "OnlineResource", **{"xlink:href": f"{url}?"})
    _sub(_sub(capability, "Exception"), "Format", SE_MEDIA_TYPE)
    brief = _sub(_sub(root, "ContentMetadata"), "CoverageOfferingBrief")
    _sub(brief, "description", f"Result of job {coverage.job_id}, computed on request")
    _sub(brief, "name", coverage.id)
    _sub(brief, "label", coverage.title)
    _lon_lat_envelope(brief, coverage)
    return xml_bytes(root)


def describe(coverage: Coverage) -> bytes:
    """``CoverageDescription`` 1.0.0: grid, dates, bands, CRSs, formats."""
    root = _root("CoverageDescription")
    offering = _sub(root, "CoverageOffering")
    _sub(offering, "description", f"Result of job {coverage.job_id}, computed on request")
    _sub(offering, "name", coverage.id)
    _sub(offering, "label", coverage.title)
    _lon_lat_envelope(offering, coverage)
    domain = _sub(offering, "domainSet")
    _spatial_domain(_sub(domain, "spatialDomain"), coverage)
    if coverage.times:
        temporal = _sub(domain, "temporalDomain")
        for moment in coverage.times:
            _sub(temporal, "gml:timePosition", iso(moment))
    _range_set(offering, coverage)
    native = crs_code(coverage.crs)
    crss = _sub(offering, "supportedCRSs")
    others = [c for c in RESPONSE_CRSS if parse_crs(c) != coverage.crs]
    _sub(crss, "requestResponseCRSs", " ".join([native, *others]))
    _sub(crss, "nativeCRSs", native)
    formats = _sub(offering, "supportedFormats", nativeFormat=FORMATS[0])
    _sub(formats, "formats", FORMATS[0])
    interpolations = _sub(offering, "supportedInterpolations", default="nearest neighbor")
    _sub(interpolations, "interpolationMethod", "nearest neighbor")
    return xml_bytes(root)


def _spatial_domain(parent: ET.Element, coverage: Coverage) -> None:
    """Envelope (edges, x/y order as WCS 1.0 writes EPSG codes) and the rectified grid."""
    srs = crs_code(coverage.crs)
    left, bottom, right, top = coverage.bounds
    rx, ry = coverage.resolution
    envelope = _sub(parent, "gml:Envelope", srsName=srs)
    _sub(envelope, "gml:pos", f"{_num(left)} {_num(bottom)}")
    _sub(envelope, "gml:pos", f"{_num(right)} {_num(top)}")
    grid = _sub(parent, "gml:RectifiedGrid", dimension="2", srsName=srs)
    limits = _sub(_sub(grid, "gml:limits"), "gml:GridEnvelope")
    _sub(limits, "gml:low", "0 0")
    _sub(limits, "gml:high", f"{coverage.width - 1} {coverage.height - 1}")
    _sub(grid, "gml:axisName", "x")
    _sub(grid, "gml:axisName", "y")
    origin = _sub(grid, "gml:origin")
    _sub(origin, "gml:pos", f"{_num(left + rx / 2)} {_num(top - ry / 2)}")
    _sub(grid, "gml:offsetVector", f"{_num(rx)} 0.0")
    _sub(grid, "gml:offsetVector", f"0.0 {_num(-ry)}")


def _range_set(parent: ET.Element, coverage: Coverage) -> None:
    """One RangeSet whose ``Band`` axis lists the band names; the nodata value."""
    range_set = _sub(_sub(parent, "rangeSet"), "RangeSet")
    _sub(range_set, "name", "values")
    _sub(range_set, "label", f"{coverage.range.dtype} values")
    axis = _sub(_sub(range_set, "axisDescription"), "AxisDescription")
    _sub(axis, "name", "Band")
    _sub(axis, "label", "Bands")
    values = _sub(axis, "values")
    for band in coverage.range.bands:
        _sub(values, "singleValue", band)
    nulls = _sub(range_set, "nullValues")
    nodata = coverage.range.nodata
    _sub(nulls, "singleValue", "NaN" if nodata != nodata else str(nodata))


def exception_report(exceptions: Iterable[tuple[str, str, str | None]]) -> bytes:
    """A ``ServiceExceptionReport`` 1.2.0 of ``(code, message, locator)`` entries."""
    root = ET.Element(
        "ServiceExceptionReport",
        {
            "xmlns": OGC,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{OGC} http://schemas.opengis.net/wcs/1.0.0/OGC-exception.xsd",
            "version": "1.2.0",
        },
    )
    for code, message, locator in exceptions:
        attrs = {"code": code}
        if locator:
            attrs["locator"] = locator
        _sub(root, "ServiceException", message, **attrs)
    return xml_bytes(root)


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
    response = kvp.get("RESPONSE_CRS")
    if response is not None:
        _crs(kvp, "RESPONSE_CRS", response)
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


def _crs(kvp: Kvp, name: str, text: str) -> str:
    try:
        parse_crs(text)
    except InvalidCRS as exc:
        raise invalid(name, exc.message) from None
    return text


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
