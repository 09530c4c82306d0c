"""The domain set of a WCS 2.0.1 coverage: a RectifiedGrid, or a grid by vectors over dates.

A coverage without time is a GML 3.2 ``RectifiedGrid``. A time series is a GML 3.3
``ReferenceableGridByVectors``: regular spatial axes and an irregular time axis whose
``coefficients`` are the job's real dates as ISO instants (the form rasdaman writes,
which OWSLib's ``timepositions`` and GDAL's WCS driver read). Origins are the centre of
the first pixel; time coordinates in the envelope and origin are OGC AnsiDate days.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ondemand.coverage import Coverage

from ..common import sub_element, xml_number
from .axes import in_crs_order, iso, to_ansi

RGRID = "http://www.opengis.net/gml/3.3/rgrid"
RGRID_SCHEMA = "http://schemas.opengis.net/gml/3.3/referenceableGrid.xsd"
RECTIFIED = "RectifiedGridCoverage"
REFERENCEABLE = "ReferenceableGridCoverage"


def coverage_subtype(coverage: Coverage) -> str:
    """``RectifiedGridCoverage``, or ``ReferenceableGridCoverage`` for a time series."""
    return RECTIFIED if coverage.times is None else REFERENCEABLE


def domain_set(parent: ET.Element, coverage: Coverage, srs: str) -> None:
    """Write the coverage's grid under ``parent`` (a ``gml:domainSet``)."""
    if coverage.times is None:
        _rectified_grid(parent, coverage, srs)
    else:
        _grid_by_vectors(parent, coverage, srs)


def _origin_and_vectors(coverage: Coverage) -> tuple[list[float], list[list[float]]]:
    """Centre of pixel (0, 0) and the x and y offset vectors, in CRS axis order."""
    rx, ry = coverage.resolution
    left, top = coverage.bounds[0], coverage.bounds[3]
    origin = list(in_crs_order(coverage.crs, left + rx / 2, top - ry / 2))
    vectors = [
        list(in_crs_order(coverage.crs, rx, 0.0)),
        list(in_crs_order(coverage.crs, 0.0, -ry)),
    ]
    return origin, vectors


def _limits(grid: ET.Element, high: list[int]) -> None:
    envelope = sub_element(sub_element(grid, "gml:limits"), "gml:GridEnvelope")
    sub_element(envelope, "gml:low", " ".join("0" for _ in high))
    sub_element(envelope, "gml:high", " ".join(str(h) for h in high))


def _point(parent: ET.Element, coverage: Coverage, srs: str, values: list[float]) -> None:
    point = sub_element(parent, "gml:Point", srsName=srs, **{"gml:id": f"origin_{coverage.id}"})
    sub_element(point, "gml:pos", " ".join(xml_number(v) for v in values))


def _rectified_grid(parent: ET.Element, coverage: Coverage, srs: str) -> None:
    grid = sub_element(
        parent, "gml:RectifiedGrid", dimension="2", **{"gml:id": f"grid_{coverage.id}"}
    )
    _limits(grid, [coverage.width - 1, coverage.height - 1])
    sub_element(grid, "gml:axisLabels", "i j")
    origin, vectors = _origin_and_vectors(coverage)
    _point(sub_element(grid, "gml:origin"), coverage, srs, origin)
    for vector in vectors:
        sub_element(grid, "gml:offsetVector", " ".join(xml_number(v) for v in vector), srsName=srs)


def _grid_by_vectors(parent: ET.Element, coverage: Coverage, srs: str) -> None:
    """Spatial axes as regular vectors, the time axis as the list of its dates."""
    assert coverage.times is not None
    x_axis, y_axis = sorted(coverage.spatial_axes, key=lambda a: a.role)
    labels = [x_axis.label, y_axis.label, "ansi"]
    grid = sub_element(
        parent,
        "gmlrgrid:ReferenceableGridByVectors",
        dimension="3",
        **{"gml:id": f"grid_{coverage.id}", "xmlns:gmlrgrid": RGRID},
    )
    _limits(grid, [coverage.width - 1, coverage.height - 1, len(coverage.times) - 1])
    sub_element(grid, "gml:axisLabels", " ".join(labels))
    origin, vectors = _origin_and_vectors(coverage)
    _point(sub_element(grid, "gmlrgrid:origin"), coverage, srs, [
        *origin, to_ansi(coverage.times[0])])
    dates = " ".join(iso(t) for t in coverage.times)
    for label, vector, coefficients in (
        (labels[0], [*vectors[0], 0.0], ""),
        (labels[1], [*vectors[1], 0.0], ""),
        (labels[2], [0.0, 0.0, 1.0], dates),
    ):
        holder = sub_element(grid, "gmlrgrid:generalGridAxis")
        axis = sub_element(holder, "gmlrgrid:GeneralGridAxis")
        text = " ".join(xml_number(v) for v in vector)
        sub_element(axis, "gmlrgrid:offsetVector", text, srsName=srs)
        sub_element(axis, "gmlrgrid:coefficients", coefficients)
        sub_element(axis, "gmlrgrid:gridAxesSpanned", label)
        sub_element(axis, "gmlrgrid:sequenceRule", "Linear", axisOrder="+1")
