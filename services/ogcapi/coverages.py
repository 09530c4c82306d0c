"""OGC API – Coverages documents and evaluation: domain set, range type, the GeoTIFF.

The coverage of a collection is the one of its WCS (:func:`ondemand.coverage.coverage_of`:
the storage CRS's native grid, a time axis when the result keeps dates); its
domain set and range type are CIS 1.1 JSON. Evaluation is the shared evaluator on
the window :mod:`services.ogcapi.query` builds.
"""

from __future__ import annotations

from typing import Any

from ondemand.coverage import Coverage, read_coverage
from ondemand.cube import Cube
from ondemand.engine import Engine
from ondemand.formats import encode, parse_output
from ondemand.formats.render import select_bands

from ..ogc.wcs.axes import ANSI_CRS_URI, crs_uri, iso
from .query import CoverageQuery

GEOTIFF = parse_output({"format": "GTiff"})
MEDIA_TYPE = "image/tiff; application=geotiff"
INDEX_2D = "http://www.opengis.net/def/crs/OGC/0/Index2D"
INDEX_3D = "http://www.opengis.net/def/crs/OGC/0/Index3D"
DATA_TYPE = "http://www.opengis.net/def/dataType/OGC/0/"


def srs_name(coverage: Coverage) -> str:
    """The storage CRS URI, compound with AnsiDate when the coverage keeps time."""
    native = crs_uri(coverage.crs)
    if coverage.times is None:
        return native
    return f"http://www.opengis.net/def/crs-compound?1={native}&2={ANSI_CRS_URI}"


def domainset(coverage: Coverage) -> dict[str, Any]:
    """CIS 1.1 JSON ``DomainSetType``: regular spatial axes in CRS order, irregular time."""
    left, bottom, right, top = coverage.bounds
    rx, ry = coverage.resolution
    spans = {"x": (left, right, rx), "y": (bottom, top, ry)}
    axes: list[dict[str, Any]] = []
    for axis in coverage.spatial_axes:
        low, high, res = spans[axis.role]
        axes.append(
            {
                "type": "RegularAxisType",
                "axisLabel": axis.label,
                "lowerBound": low,
                "upperBound": high,
                "uomLabel": axis.uom,
                "resolution": res,
            }
        )
    sizes = {"x": coverage.width, "y": coverage.height}
    limits = [
        {
            "type": "IndexAxisType",
            "axisLabel": name,
            "lowerBound": 0,
            "upperBound": sizes[a.role] - 1,
        }
        for name, a in zip(("i", "j"), coverage.spatial_axes, strict=True)
    ]
    if coverage.times is not None:
        axes.append(
            {
                "type": "IrregularAxisType",
                "axisLabel": "time",
                "uomLabel": "d",
                "coordinate": [iso(t) for t in coverage.times],
            }
        )
        limits.append(
            {"type": "IndexAxisType", "axisLabel": "k", "lowerBound": 0,
             "upperBound": len(coverage.times) - 1}
        )
    return {
        "type": "DomainSetType",
        "generalGrid": {
            "type": "GeneralGridCoverageType",
            "srsName": srs_name(coverage),
            "axisLabels": [a["axisLabel"] for a in axes],
            "axis": axes,
            "gridLimits": {
                "type": "GridLimitsType",
                "srsName": INDEX_3D if coverage.times is not None else INDEX_2D,
                "axisLabels": [a["axisLabel"] for a in limits],
                "axis": limits,
            },
        },
    }


def rangetype(coverage: Coverage) -> dict[str, Any]:
    """CIS 1.1 JSON ``DataRecordType``: one quantity per band with its data type."""
    nodata = coverage.range.nodata
    nil = None if nodata != nodata else nodata
    fields = []
    for band in coverage.range.bands:
        field: dict[str, Any] = {
            "type": "QuantityType",
            "id": band,
            "name": band,
            "definition": f"{DATA_TYPE}{coverage.range.dtype}",
            "uom": {"type": "UnitReference", "code": "1"},
        }
        if nil is not None:
            field["nilValues"] = [
                {"value": nil, "reason": "http://www.opengis.net/def/nil/OGC/0/missing"}
            ]
        fields.append(field)
    return {"type": "DataRecordType", "field": fields}


def render(engine: Engine, coverage: Coverage, query: CoverageQuery) -> bytes:
    """Evaluate the query's window and encode the kept bands as GeoTIFF (blocking)."""
    cube = read_coverage(engine, coverage, query.window)
    if query.properties is not None:
        indices = select_bands(cube, query.properties)
        cube = Cube(
            cube.data[:, indices],
            cube.times,
            tuple(cube.bands[i] for i in indices),
            cube.crs,
            cube.transform,
        )
    return encode(cube, GEOTIFF, stem=coverage.id).content
