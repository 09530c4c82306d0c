"""WCS 2.0.1 documents: capabilities and coverage descriptions (GML 3.2, GMLCOV 1.0, SWE 2.0).

A coverage whose result keeps time is 3-D: its envelope uses the compound CRS of the
native CRS and OGC AnsiDate (axis ``ansi``, days since 1600-12-31) and its domain is a
grid by vectors whose time axis lists the real dates (:mod:`.grids`); the dates are also
listed in ``gmlcov:metadata``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ondemand.coverage import Coverage
from ondemand.errors import InvalidCRS
from ondemand.window import parse_crs

from ...errors import ExceptionCode
from ..common import Kvp, OWSException, invalid, sub_element, xml_bytes, xml_number
from .axes import ANSI_CRS_URI, crs_uri, in_crs_order, iso, to_ansi
from .grids import coverage_subtype, domain_set
from .subsets import GetCoverage, parse_subset

WCS = "http://www.opengis.net/wcs/2.0"
OWS = "http://www.opengis.net/ows/2.0"
GML = "http://www.opengis.net/gml/3.2"
GMLCOV = "http://www.opengis.net/gmlcov/1.0"
SWE = "http://www.opengis.net/swe/2.0"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CRS_EXT = "http://www.opengis.net/wcs/crs/1.0"
ONDEMAND = "urn:ondemand:wcs"
FORMATS = ("image/tiff",)
PROFILES = (
    "http://www.opengis.net/spec/WCS/2.0/conf/core",
    "http://www.opengis.net/spec/WCS_protocol-binding_get-kvp/1.0/conf/get-kvp",
    "http://www.opengis.net/spec/GMLCOV/1.0/conf/gml-coverage",
    "http://www.opengis.net/spec/GMLCOV_geotiff-coverages/1.0/conf/geotiff-coverage",
    "http://www.opengis.net/spec/WCS_service-extension_crs/1.0/conf/crs",
    "http://www.opengis.net/spec/WCS_service-extension_scaling/1.0/conf/scaling",
)
SUPPORTED_CRSS = (
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
)
"""Subsetting and output CRSs listed beside the native one (any EPSG code works)."""


def _root(tag: str, schema: str) -> ET.Element:
    return ET.Element(
        tag,
        {
            "xmlns:wcs": WCS,
            "xmlns:ows": OWS,
            "xmlns:gml": GML,
            "xmlns:gmlcov": GMLCOV,
            "xmlns:swe": SWE,
            "xmlns:xlink": XLINK,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{WCS} http://schemas.opengis.net/wcs/2.0/{schema}",
        },
    )


def capabilities(coverage: Coverage, url: str) -> bytes:
    """``wcs:Capabilities`` 2.0.1 for the one coverage of a service at ``url``."""
    root = _root("wcs:Capabilities", "wcsGetCapabilities.xsd")
    root.set("version", "2.0.1")
    ident = sub_element(root, "ows:ServiceIdentification")
    sub_element(ident, "ows:Title", f"ondemand WCS: {coverage.title}")
    sub_element(
        ident, "ows:Abstract", f"Job {coverage.job_id}, computed window by window on request"
    )
    sub_element(ident, "ows:ServiceType", "OGC WCS", codeSpace="OGC")
    sub_element(ident, "ows:ServiceTypeVersion", "2.0.1")
    sub_element(ident, "ows:ServiceTypeVersion", "1.0.0")
    for profile in PROFILES:
        sub_element(ident, "ows:Profile", profile)
    provider = sub_element(root, "ows:ServiceProvider")
    sub_element(provider, "ows:ProviderName", "ondemand")
    sub_element(provider, "ows:ServiceContact")
    operations = sub_element(root, "ows:OperationsMetadata")
    for name in ("GetCapabilities", "DescribeCoverage", "GetCoverage"):
        http = sub_element(
            sub_element(sub_element(operations, "ows:Operation", name=name), "ows:DCP"), "ows:HTTP"
        )
        sub_element(http, "ows:Get", **{"xlink:href": f"{url}?"})
    metadata = sub_element(root, "wcs:ServiceMetadata")
    for media_type in FORMATS:
        sub_element(metadata, "wcs:formatSupported", media_type)
    extension = sub_element(metadata, "wcs:Extension")
    crs_metadata = sub_element(extension, "crs:CrsMetadata", **{"xmlns:crs": CRS_EXT})
    for uri in _crss(coverage):
        sub_element(crs_metadata, "crs:crsSupported", uri)
    summary = sub_element(sub_element(root, "wcs:Contents"), "wcs:CoverageSummary")
    sub_element(summary, "ows:Title", coverage.title)
    sub_element(summary, "wcs:CoverageId", coverage.id)
    sub_element(summary, "wcs:CoverageSubtype", coverage_subtype(coverage))
    west, south, east, north = coverage.layer.bounds_wgs84
    box = sub_element(summary, "ows:WGS84BoundingBox")
    sub_element(box, "ows:LowerCorner", f"{xml_number(west)} {xml_number(south)}")
    sub_element(box, "ows:UpperCorner", f"{xml_number(east)} {xml_number(north)}")
    native = sub_element(summary, "ows:BoundingBox", crs=crs_uri(coverage.crs), dimensions="2")
    low, high = _corners(coverage)
    sub_element(native, "ows:LowerCorner", " ".join(low[:2]))
    sub_element(native, "ows:UpperCorner", " ".join(high[:2]))
    return xml_bytes(root)


def _crss(coverage: Coverage) -> list[str]:
    native = crs_uri(coverage.crs)
    return [native, *(uri for uri in SUPPORTED_CRSS if uri != native)]


def _corners(coverage: Coverage) -> tuple[list[str], list[str]]:
    """Lower and upper corners in CRS axis order, then AnsiDate for a time axis."""
    left, bottom, right, top = coverage.bounds
    low = [xml_number(v) for v in in_crs_order(coverage.crs, left, bottom)]
    high = [xml_number(v) for v in in_crs_order(coverage.crs, right, top)]
    if coverage.times is not None:
        low.append(xml_number(to_ansi(coverage.times[0])))
        high.append(xml_number(to_ansi(coverage.times[-1])))
    return low, high


def srs_name(coverage: Coverage) -> str:
    """The coverage's CRS URI: native, or compound with AnsiDate when time is kept."""
    native = crs_uri(coverage.crs)
    if coverage.times is None:
        return native
    return f"http://www.opengis.net/def/crs-compound?1={native}&2={ANSI_CRS_URI}"


def describe(coverages: list[Coverage]) -> bytes:
    """``wcs:CoverageDescriptions`` 2.0.1 of ``coverages``."""
    root = _root("wcs:CoverageDescriptions", "wcsDescribeCoverage.xsd")
    for coverage in coverages:
        _description(root, coverage)
    return xml_bytes(root)


def _description(root: ET.Element, coverage: Coverage) -> None:
    srs = srs_name(coverage)
    axes = coverage.axes
    dims = str(len(axes))
    node = sub_element(root, "wcs:CoverageDescription", **{"gml:id": coverage.id})
    envelope = sub_element(
        sub_element(node, "gml:boundedBy"),
        "gml:Envelope",
        srsName=srs,
        axisLabels=" ".join(a.label for a in axes),
        uomLabels=" ".join(a.uom for a in axes),
        srsDimension=dims,
    )
    low, high = _corners(coverage)
    sub_element(envelope, "gml:lowerCorner", " ".join(low))
    sub_element(envelope, "gml:upperCorner", " ".join(high))
    sub_element(node, "wcs:CoverageId", coverage.id)
    if coverage.times is not None:
        extension = sub_element(sub_element(node, "gmlcov:metadata"), "gmlcov:Extension")
        dates = sub_element(extension, "od:timePositions", **{"xmlns:od": ONDEMAND})
        for moment in coverage.times:
            sub_element(dates, "od:timePosition", iso(moment))
    domain_set(sub_element(node, "gml:domainSet"), coverage, srs)
    _range_type(node, coverage)
    parameters = sub_element(node, "wcs:ServiceParameters")
    sub_element(parameters, "wcs:CoverageSubtype", coverage_subtype(coverage))
    sub_element(parameters, "wcs:nativeFormat", FORMATS[0])


def _range_type(node: ET.Element, coverage: Coverage) -> None:
    """One SWE Quantity per band, with its data type and nil value."""
    record = sub_element(sub_element(node, "gmlcov:rangeType"), "swe:DataRecord")
    nodata = coverage.range.nodata
    for band in coverage.range.bands:
        quantity = sub_element(
            sub_element(record, "swe:field", name=band),
            "swe:Quantity",
            definition=f"http://www.opengis.net/def/dataType/OGC/0/{coverage.range.dtype}",
        )
        sub_element(quantity, "swe:description", f"{band} ({coverage.range.dtype})")
        nils = sub_element(sub_element(quantity, "swe:nilValues"), "swe:NilValues")
        sub_element(
            nils,
            "swe:nilValue",
            "NaN" if nodata != nodata else str(nodata),
            reason="http://www.opengis.net/def/nil/OGC/0/missing",
        )
        sub_element(quantity, "swe:uom", code="1")


def get_coverage_request(kvp: Kvp) -> GetCoverage:
    """Parse SUBSET, SUBSETTINGCRS, OUTPUTCRS and the scaling parameters of a 2.0 GetCoverage.

    The draft's ``SUBSET=x,CRS(lo,hi)`` and ``SIZE=x(200)`` are accepted: the CRS inside a
    subset is a subsetting CRS and SIZE means SCALESIZE. GDAL sends time subsets as
    ``SUBSET0=...``: read like SUBSET.
    """
    text = kvp.get("FORMAT")
    if text is not None and text.split(";")[0].strip().lower() not in FORMATS:
        raise invalid("FORMAT", f"FORMAT={text!r} is not supported; use {FORMATS[0]}")
    media = kvp.get("MEDIATYPE")
    if media is not None:
        raise OWSException(
            "OptionNotSupported",
            f"MEDIATYPE={media!r}: multipart responses are not offered; omit MEDIATYPE",
            "MEDIATYPE",
        )
    subsets = tuple(parse_subset(s) for s in kvp.getall("SUBSET") if s.strip())
    numbered = sorted(n for n in kvp.names() if re.fullmatch(r"subset\d+", n))
    subsets += tuple(parse_subset(s) for n in numbered for s in kvp.getall(n) if s.strip())
    subsetting = _crs(kvp.get("SUBSETTINGCRS"), "SubsettingCrs-NotSupported", "SUBSETTINGCRS")
    for subset in subsets:
        _crs(subset.crs, "SubsettingCrs-NotSupported", "SUBSET")
    output = _crs(kvp.get("OUTPUTCRS"), "OutputCrs-NotSupported", "OUTPUTCRS")
    return GetCoverage(
        subsets,
        subsetting,
        output,
        scale_size=(*kvp.getall("SCALESIZE"), *kvp.getall("SIZE")),
        scale_factor=kvp.get("SCALEFACTOR"),
        scale_axes=tuple(kvp.getall("SCALEAXES")),
        scale_extent=tuple(kvp.getall("SCALEEXTENT")),
    )


def _crs(text: str | None, code: ExceptionCode, locator: str) -> str | None:
    if text is None:
        return None
    try:
        parse_crs(text)
    except InvalidCRS as exc:
        raise OWSException(code, exc.message, locator) from None
    return text
