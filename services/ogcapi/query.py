"""Parse the query of an OGC API – Coverages request into the window the evaluator runs.

Parameters (names also in GDAL's camel case, ``scaleSize``, ``scaleFactor``...):

- ``subset=E(652000:662000),N(5171000:5181000)`` (projected axes of the storage CRS)
  or ``subset=Lat(46.6:46.7),Lon(11.0:11.1)`` (then the subset CRS is EPSG:4326),
  ``time("2017-01-04")`` or ``time("2017-01-01":"2017-01-31")``; ``*`` or ``..``
  leave a bound open; ``subset-crs`` names another CRS;
- ``bbox=minx,miny,maxx,maxy`` in ``bbox-crs`` (default OGC:CRS84);
- ``datetime=2017-01-04`` or ``2017-01-01/2017-01-31`` (``..`` open);
- ``scale-size=E(200),N(100)``, ``scale-factor=2``, ``scale-axes=E(2)``;
- ``properties=B04,B8A`` (band names or 1-based numbers); ``crs`` for the output
  (default the storage CRS, whatever CRS the subset is in).

The OGC API's syntax (``:`` between bounds, several axes in one ``subset``) becomes
the WCS parameters of :mod:`services.ogc.wcs.subsets`, which resolve axis labels,
dates and CRSs into the engine's typed :class:`~ondemand.coverage.CoverageRequest`.
Semantics: with a spatial subset of both axes and ``scale-size`` of both, the window
is exactly that box and size (pixels outside the coverage are no data: what GDAL's
block requests need); otherwise the WCS 2.0 rules of :func:`ondemand.coverage.window_for`
apply (trims clipped to the coverage, native pixels, then scaling).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rasterio.warp import transform_bounds
from starlette.datastructures import QueryParams

from ondemand.coverage import Coverage, CoverageRequest, window_for
from ondemand.errors import ArgumentInvalid, OutputFormatUnsupported, SubsetInvalid
from ondemand.window import Window

from ..ogc.wcs.axes import TIME_LABELS, crs_uri
from ..ogc.wcs.subsets import GetCoverage, Subset, coverage_request

GEOGRAPHIC_LABELS = frozenset({"lat", "latitude", "lon", "long", "longitude"})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FORMATS = frozenset({"tif", "tiff", "geotiff", "image/tiff", "image/tiff; application=geotiff"})
_OPEN = {"*", "..", ""}
_ITEM = re.compile(r"\s*([A-Za-z_][\w:/.#-]*)\s*\((.*)\)\s*", re.S)


def param(query: QueryParams, *names: str) -> str | None:
    """The first non-blank value of any of ``names`` (OGC spelling, then GDAL's)."""
    for name in names:
        value = query.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside parentheses and double quotes."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    if quoted or depth != 0:
        raise SubsetInvalid(f"{text!r} has unbalanced quotes or parentheses")
    return parts


def parse_subsets(texts: Sequence[str]) -> list[Subset]:
    """``axis(low:high)`` / ``axis(point)`` items of every ``subset`` value."""
    out: list[Subset] = []
    for text in texts:
        for item in split_top(text, ","):
            match = _ITEM.fullmatch(item)
            if match is None:
                raise SubsetInvalid(
                    f"subset item {item!r} is not axis(low:high) or axis(point), "
                    'e.g. subset=E(652000:662000),time("2017-01-04")'
                )
            axis, inside = match.groups()
            values = [_unquote(v) for v in split_top(inside, ":")]
            if len(values) == 1 and values[0] not in _OPEN:
                out.append(Subset(axis, values[0], None, True))
            elif len(values) == 2:
                low, high = (None if v in _OPEN else v for v in values)
                out.append(Subset(axis, low, high, False))
            else:
                raise SubsetInvalid(f"subset item {item!r} needs one point or low:high")
    return out


def _unquote(text: str) -> str:
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].strip()
    return value


def bbox_subsets(text: str) -> list[Subset]:
    """``bbox=minx,miny,maxx,maxy`` as subsets on the x and y roles."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SubsetInvalid(f"bbox={text!r} must be four numbers minx,miny,maxx,maxy") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise SubsetInvalid(f"bbox={text!r} must be four finite numbers minx,miny,maxx,maxy")
    return [Subset("x", parts[0], parts[2]), Subset("y", parts[1], parts[3])]


def datetime_subset(text: str) -> Subset:
    """``datetime`` (an instant, or ``start/end`` with ``..`` open) as a time subset."""
    if "/" not in text:
        return Subset("time", text, None, True)
    low, _, high = text.partition("/")
    if "/" in high:
        raise SubsetInvalid(f"datetime={text!r} is not an instant or start/end")
    return Subset(
        "time",
        None if low.strip() in _OPEN else low,
        None if high.strip() in _OPEN else high,
    )


@dataclass(frozen=True)
class CoverageQuery:
    """A parsed coverage request: its window and the bands (``properties``) to keep."""

    window: Window
    properties: tuple[str | int, ...] | None


def parse_query(coverage: Coverage, query: QueryParams) -> CoverageQuery:
    """The window and band selection of ``/collections/{id}/coverage?...``."""
    fmt = param(query, "f")
    if fmt is not None and fmt.lower() not in FORMATS:
        raise OutputFormatUnsupported(f"f={fmt!r}: coverages are GeoTIFF (f=tif), nothing else")
    subsets = parse_subsets(query.getlist("subset"))
    subset_crs = param(query, "subset-crs", "subsetCrs")
    bbox = param(query, "bbox")
    if bbox is not None:
        if subset_crs is not None or any(_spatial(s) for s in subsets):
            raise SubsetInvalid("Give bbox or a spatial subset, not both")
        subsets += bbox_subsets(bbox)
        subset_crs = param(query, "bbox-crs", "bboxCrs") or CRS84
    if subset_crs is None and any(s.axis.lower() in GEOGRAPHIC_LABELS for s in subsets):
        subset_crs = "EPSG:4326"
    moment = param(query, "datetime")
    if moment is not None and coverage.times is not None:
        if not all(_spatial(s) for s in subsets):
            raise SubsetInvalid("Give datetime or a time subset, not both")
        subsets.append(datetime_subset(moment))
    request = coverage_request(
        coverage,
        GetCoverage(
            subsets=tuple(subsets),
            subsetting_crs=subset_crs,
            output_crs=param(query, "crs") or crs_uri(coverage.crs),
            scale_size=tuple(v for v in [param(query, "scale-size", "scaleSize")] if v),
            scale_factor=param(query, "scale-factor", "scaleFactor"),
            scale_axes=tuple(v for v in [param(query, "scale-axes", "scaleAxes")] if v),
        ),
    )
    return CoverageQuery(_window(coverage, request), _properties(coverage, query))


def _spatial(subset: Subset) -> bool:
    """Whether a subset is on a spatial axis (not on time)."""
    return subset.axis.lower() not in TIME_LABELS


def _window(coverage: Coverage, request: CoverageRequest) -> Window:
    """The exact box-and-size window when both are given (see module doc), else WCS rules."""
    sizes = request.scaling.sizes
    x, y = request.x, request.y
    bounded = x is not None and y is not None and all(map(math.isfinite, (*x, *y)))
    if not bounded or set(sizes) != {"x", "y"} or request.scaling.factors:
        return window_for(coverage, request)
    assert x is not None and y is not None and request.crs is not None
    (left, right), (bottom, top) = x, y
    if not (right > left and top > bottom):
        raise SubsetInvalid(f"The subset ({left}, {bottom}, {right}, {top}) is empty or inverted")
    crs = request.crs
    output = request.output_crs or crs
    box = (left, bottom, right, top)
    if output != crs:
        box = tuple(float(v) for v in transform_bounds(crs, output, *box, densify_pts=21))  # type: ignore[assignment]
    extent = transform_bounds(coverage.crs, output, *coverage.bounds, densify_pts=21)
    if box[0] >= extent[2] or box[2] <= extent[0] or box[1] >= extent[3] or box[3] <= extent[1]:
        raise SubsetInvalid(
            f"The subset lies outside the coverage (its extent in the subset CRS: {extent})"
        )
    return Window(output, box, sizes["x"], sizes["y"], request.times)


def _properties(coverage: Coverage, query: QueryParams) -> tuple[str | int, ...] | None:
    """``properties=B04,2``: band names or 1-based numbers, checked against the range."""
    text = param(query, "properties")
    if text is None:
        return None
    refs: list[str | int] = []
    bands = coverage.range.bands
    for item in (p.strip() for p in text.split(",")):
        if item.isdigit() and 1 <= int(item) <= len(bands):
            refs.append(int(item))
        elif item in bands:
            refs.append(item)
        else:
            raise ArgumentInvalid(
                f"properties: {item!r} is not a field of this coverage; fields: {', '.join(bands)}"
            )
    return tuple(refs)
