"""A job's result seen as a coverage: its grid, axes and range, and typed requests as windows.

Free of any web framework and of any protocol syntax: the WCS endpoints
(``services/ogc/wcs``) parse their KVP (SUBSET, SCALE*, TIME, CRS strings) into a typed
:class:`CoverageRequest` and this module turns it into the one :class:`Window` the
shared evaluator runs. Spatial axes are labelled as their CRS abbreviates them (``E``
``N`` for UTM, ``Lat`` ``Long`` for EPSG:4326); a kept time axis is ``ansi``.

Semantics (documented in ``docs/wcs.md``):

- a spatial trim is clipped to the coverage's extent; a trim or slice that misses it
  is :class:`SubsetInvalid`. On the native CRS without scaling, the result keeps the
  native pixels (the trim grows to whole native pixels); a spatial slice keeps the
  one pixel row or column that holds the point;
- a time slice picks the date of that day (or that exact instant); a trim keeps the
  dates inside it (:func:`select_times`);
- :class:`Scaling` divides the number of pixels per axis or sets it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal

import numpy as np
import pyproj
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import calculate_default_transform, transform_bounds

from .cube import Cube
from .engine import Engine
from .errors import ArgumentInvalid, NoData, PixelLimitExceeded, ScaleInvalid, SubsetInvalid
from .grid import snap_outward
from .layer import Layer
from .processes.resample import fit_to_window
from .window import Bounds, Window

Role = Literal["x", "y", "t"]
TimePoint = date | datetime
"""A time coordinate: a day (matches any instant of it) or an instant."""

_UOM = {"metre": "m", "meter": "m", "degree": "deg", "US survey foot": "ft_us", "foot": "ft"}
_LABELS = {"Lon": "Long"}  # axis abbreviations as WCS servers and clients spell them


@dataclass(frozen=True)
class Axis:
    """One axis of a coverage: its label, unit of measure and role (x, y or time)."""

    label: str
    uom: str
    role: Role


@dataclass(frozen=True)
class RangeType:
    """What each grid point holds: band names, the real dtype and the nodata value."""

    bands: tuple[str, ...]
    dtype: str = "float32"

    @property
    def nodata(self) -> float | int:
        """NaN for floats; for integers the value GeoTIFF output favours (dtype max/min)."""
        kind = np.dtype(self.dtype)
        if kind.kind == "f":
            return float("nan")
        info = np.iinfo(kind)
        return int(info.min) if info.min < 0 else int(info.max)


@dataclass(frozen=True)
class Coverage:
    """One coverage per job: the result's extent on the collection's native grid.

    ``bounds`` are pixel edges in ``crs``; ``resolution`` the native pixel size.
    ``times`` are the real dates of a kept time axis (3-D coverage), else None.
    """

    id: str
    job_id: str
    title: str
    layer: Layer
    crs: CRS
    bounds: Bounds
    resolution: tuple[float, float]
    times: tuple[datetime, ...] | None
    range: RangeType

    @property
    def width(self) -> int:
        """Native grid columns."""
        return max(1, round((self.bounds[2] - self.bounds[0]) / self.resolution[0]))

    @property
    def height(self) -> int:
        """Native grid rows."""
        return max(1, round((self.bounds[3] - self.bounds[1]) / self.resolution[1]))

    @property
    def transform(self) -> Affine:
        """The native grid's affine transform (pixel edges)."""
        return Affine(
            self.resolution[0], 0.0, self.bounds[0], 0.0, -self.resolution[1], self.bounds[3]
        )

    @property
    def spatial_axes(self) -> tuple[Axis, Axis]:
        """The CRS's axes in CRS order (``E N``; ``Lat Long`` for EPSG:4326)."""
        return crs_axes(self.crs)

    @property
    def axes(self) -> tuple[Axis, ...]:
        """All axes: spatial in CRS order, then ``ansi`` if time is kept."""
        time = (Axis("ansi", "d", "t"),) if self.times is not None else ()
        return (*self.spatial_axes, *time)

    def matches(self, identifier: str) -> bool:
        """Whether ``identifier`` names this coverage (its id or the bare job id)."""
        return identifier in (self.id, self.job_id)


def coverage_id(job_id: str) -> str:
    """The stable coverage identifier of a job (an NCName, as WCS 2.0 requires)."""
    return f"job_{job_id}"


def coverage_of(layer: Layer, range_type: RangeType) -> Coverage:
    """The coverage of a published job's layer."""
    res = layer.native_resolution
    return Coverage(
        id=coverage_id(layer.id),
        job_id=layer.id,
        title=layer.title,
        layer=layer,
        crs=layer.native_crs,
        bounds=layer.native_bounds,
        resolution=(res, res),
        times=layer.times,
        range=range_type,
    )


def probe_range(engine: Engine, layer: Layer) -> RangeType:
    """Learn the result's bands and dtype by evaluating a few native pixels at its centre.

    Falls back to the layer's band names and float32 when the centre holds no data.
    """
    left, bottom, right, top = layer.native_bounds
    res = layer.native_resolution
    cx = left + math.floor((right - left) / 2 / res) * res
    cy = top - math.floor((top - bottom) / 2 / res) * res
    times = None if layer.times is None else layer.times[:1]
    window = Window(layer.native_crs, (cx, cy - 2 * res, cx + 2 * res, cy), 2, 2, times)
    fallback = RangeType(layer.bands or ("band_1",))
    try:
        result = engine.evaluate(layer.compiled, window)
    except NoData:
        return fallback
    if not isinstance(result, Cube):
        return fallback
    return RangeType(tuple(result.bands), np.dtype(result.data.dtype).name)


def read_coverage(engine: Engine, coverage: Coverage, window: Window) -> Cube:
    """Evaluate the job on ``window``; where no item lies under it, an all-nodata cube.

    The pixel limit (``Settings.max_pixels``, counting every date and band) is checked
    before anything is read or allocated.
    """
    dates = 1 if coverage.times is None else len(window.times or coverage.times)
    pixels = window.pixels * dates * len(coverage.range.bands)
    limit = engine.settings.max_pixels
    if pixels > limit:
        raise PixelLimitExceeded(
            f"The coverage request is {window.width} x {window.height} pixels x {dates} "
            f"date(s) x {len(coverage.range.bands)} band(s) = {pixels:,} pixels, over the "
            f"limit of {limit:,}; ask for a smaller area or size (SCALESIZE/WIDTH/HEIGHT)"
        )
    try:
        result = fit_to_window(engine.evaluate(coverage.layer.compiled, window), window)
    except NoData:
        return empty_cube(coverage, window)
    if not isinstance(result, Cube):
        raise ArgumentInvalid(
            f"The job returns {type(result).__name__}, not a raster; it has no coverage"
        )
    return result


def empty_cube(coverage: Coverage, window: Window) -> Cube:
    """A cube of ``window``'s grid where every pixel is no data."""
    times = None if coverage.times is None else (window.times or coverage.times)
    shape = (1 if times is None else len(times), len(coverage.range.bands),
             window.height, window.width)
    data = np.ma.MaskedArray(
        np.zeros(shape, dtype=coverage.range.dtype), mask=np.ones(shape, dtype=bool)
    )
    return Cube(data, times, coverage.range.bands, window.crs, window.transform)


# -- CRS and axes ---------------------------------------------------------------------


@lru_cache(maxsize=64)
def crs_axes(crs: CRS) -> tuple[Axis, Axis]:
    """The two horizontal axes of ``crs`` in its axis order, labelled and with units."""
    authority = crs.to_authority()
    source = f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()
    info = pyproj.CRS.from_user_input(source).axis_info[:2]
    axes: list[Axis] = []
    for axis in info:
        role: Role = "x" if axis.direction.lower() in ("east", "west") else "y"
        label = _LABELS.get(axis.abbrev, axis.abbrev) or role.upper()
        axes.append(Axis(label, _UOM.get(axis.unit_name, axis.unit_name), role))
    if len(axes) != 2:
        axes = [Axis("x", "m", "x"), Axis("y", "m", "y")]
    return axes[0], axes[1]


# -- time -----------------------------------------------------------------------------


def select_times(
    times: tuple[datetime, ...],
    low: TimePoint | None,
    high: TimePoint | None,
    *,
    slice_: bool,
) -> tuple[datetime, ...]:
    """The dates a time slice (``low`` only) or trim (``low``/``high``, None open) keeps.

    A day matches the dates of that day; an instant matches a date within a second
    (AnsiDate numbers carry float noise).
    """
    available = ", ".join(t.date().isoformat() for t in times)
    if slice_:
        assert low is not None
        for label in times:
            if isinstance(low, datetime):
                hit = abs((label - low).total_seconds()) < 1
            else:
                hit = label.date() == low
            if hit:
                return (label,)
        raise SubsetInvalid(
            f"Time {low.isoformat()!r} is not a date of this coverage; dates: {available}"
        )
    start = _time_edge(low, False)
    end = _time_edge(high, True)
    trim = f"({_text(low)}, {_text(high)})"
    if start is not None and end is not None and start > end:
        raise SubsetInvalid(f"Time trim {trim} has its lower bound above the upper")
    kept = tuple(
        t for t in times if (start is None or t >= start) and (end is None or t <= end)
    )
    if not kept:
        raise SubsetInvalid(f"Time trim {trim} holds no date; dates: {available}")
    return kept


def _text(value: TimePoint | None) -> str:
    return "*" if value is None else value.isoformat()


def _time_edge(value: TimePoint | None, upper: bool) -> datetime | None:
    """A trim bound as an instant; a day bound covers its whole day."""
    if value is None or isinstance(value, datetime):
        return value
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if upper else start


# -- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaling:
    """Output size rules: exact sizes or divisors per role (``x``/``y``)."""

    sizes: dict[str, int] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)

    def apply(self, width: int, height: int) -> tuple[int, int]:
        """The scaled size of a ``width`` x ``height`` grid."""
        out = {"x": width, "y": height}
        for role, factor in self.factors.items():
            scaled = out[role] / factor
            if not math.isfinite(scaled):
                raise ScaleInvalid(f"Scale factor {factor!r} makes the {role} size infinite")
            out[role] = max(1, round(scaled))
        out.update(self.sizes)
        return out["x"], out["y"]


@dataclass(frozen=True)
class CoverageRequest:
    """A GetCoverage in typed form (every protocol string already parsed).

    ``x`` and ``y`` are ranges in ``crs`` (None: the coverage's CRS), a slice being
    ``(v, v)`` and an open end an infinity; ``times`` the dates kept (None: all);
    ``output_crs`` the grid's CRS (None: ``crs``); ``scaling`` the output size rules.
    """

    crs: CRS | None = None
    x: tuple[float, float] | None = None
    y: tuple[float, float] | None = None
    times: tuple[datetime, ...] | None = None
    output_crs: CRS | None = None
    scaling: Scaling = field(default_factory=lambda: Scaling())


def window_for(coverage: Coverage, request: CoverageRequest) -> Window:
    """The window of a GetCoverage (see the module doc for the semantics)."""
    subset_crs = request.crs or coverage.crs
    ranges = {r: v for r, v in (("x", request.x), ("y", request.y)) if v is not None}
    for role, (low, high) in ranges.items():
        if low > high:
            raise SubsetInvalid(f"Subset on {role} has its lower bound {low} above {high}")
    output = request.output_crs or subset_crs
    extent = _extent_in(coverage, subset_crs)
    left = max(extent[0], ranges["x"][0] if "x" in ranges else extent[0])
    right = min(extent[2], ranges["x"][1] if "x" in ranges else extent[2])
    bottom = max(extent[1], ranges["y"][0] if "y" in ranges else extent[1])
    top = min(extent[3], ranges["y"][1] if "y" in ranges else extent[3])
    if left > right or bottom > top:
        raise SubsetInvalid(
            "The subset lies outside the coverage; its extent (min x, min y, max x, max y) in "
            f"{subset_crs.to_string()} is {_format_bounds(extent)}"
        )
    box = (left, bottom, right, top)
    if output == coverage.crs:
        return _native_window(coverage, subset_crs, box, request.scaling, request.times)
    out_box = box if output == subset_crs else _transform(subset_crs, output, box)
    width, height = _estimated_size(coverage, output, out_box)
    width, height = request.scaling.apply(width, height)
    return Window(output, _nonempty(out_box, width, height), width, height, request.times)


def _native_window(
    coverage: Coverage,
    subset_crs: CRS,
    box: Bounds,
    scaling: Scaling,
    times: tuple[datetime, ...] | None,
) -> Window:
    """A window on the native grid: whole native pixels, then scaled if asked."""
    native = box if subset_crs == coverage.crs else _transform(subset_crs, coverage.crs, box)
    origin = (coverage.bounds[0], coverage.bounds[3])
    snapped = snap_outward(native, origin, coverage.resolution)
    left, bottom, right, top = (
        max(snapped[0], coverage.bounds[0]),
        max(snapped[1], coverage.bounds[1]),
        min(snapped[2], coverage.bounds[2]),
        min(snapped[3], coverage.bounds[3]),
    )
    rx, ry = coverage.resolution
    if right - left < rx / 2:  # a slice on a pixel edge: keep the pixel it starts
        left, right = _one_pixel(left, origin[0], rx, coverage.bounds[0], coverage.bounds[2])
    if top - bottom < ry / 2:
        bottom, top = _one_pixel(bottom, origin[1], ry, coverage.bounds[1], coverage.bounds[3])
    width = max(1, round((right - left) / rx))
    height = max(1, round((top - bottom) / ry))
    width, height = scaling.apply(width, height)
    return Window(coverage.crs, (left, bottom, right, top), width, height, times)


def _one_pixel(
    value: float, origin: float, res: float, low: float, high: float
) -> tuple[float, float]:
    start = origin + math.floor((value - origin) / res) * res
    start = min(max(start, low), high - res)
    return start, start + res


def _extent_in(coverage: Coverage, crs: CRS) -> Bounds:
    """The coverage's extent in ``crs`` (a densified transform)."""
    if crs == coverage.crs:
        return coverage.bounds
    return _transform(coverage.crs, crs, coverage.bounds)


def _transform(src: CRS, dst: CRS, bounds: Bounds) -> Bounds:
    out = transform_bounds(src, dst, *bounds, densify_pts=21)
    return (float(out[0]), float(out[1]), float(out[2]), float(out[3]))


def _estimated_size(coverage: Coverage, crs: CRS, box: Bounds) -> tuple[int, int]:
    """Pixels over ``box`` in ``crs`` at about the native resolution."""
    native = _transform(crs, coverage.crs, box)
    cols = max(1, round((native[2] - native[0]) / coverage.resolution[0]))
    rows = max(1, round((native[3] - native[1]) / coverage.resolution[1]))
    transform, _, _ = calculate_default_transform(coverage.crs, crs, cols, rows, *native)
    res = float(abs(transform.a))
    return (
        max(1, round((box[2] - box[0]) / res)),
        max(1, round((box[3] - box[1]) / res)),
    )


def _nonempty(box: Bounds, width: int, height: int) -> Bounds:
    """Give a slice (zero span) a tiny extent so it is a one-pixel grid."""
    left, bottom, right, top = box
    if right <= left:
        left, right = left - 1e-9 * width, right + 1e-9 * width
    if top <= bottom:
        bottom, top = bottom - 1e-9 * height, top + 1e-9 * height
    return left, bottom, right, top


def _format_bounds(bounds: Bounds) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ")"


# -- WCS 1.0 --------------------------------------------------------------------------


def window_10(
    coverage: Coverage,
    *,
    crs: CRS,
    bbox: Bounds,
    response_crs: CRS | None = None,
    size: tuple[int, int] | None = None,
    resolution: tuple[float, float] | None = None,
    times: tuple[datetime, ...] | None = None,
) -> Window:
    """The window of a WCS 1.0 GetCoverage: exactly the BBOX (edges) and size asked.

    Pixels outside the coverage are no data (a BBOX beside it is all no data).

    ``bbox`` is in ``crs`` (x/easting first, whatever the CRS's axis order); with
    ``response_crs`` the box is transformed to it. ``size`` (WIDTH, HEIGHT) or
    ``resolution`` (RESX, RESY in the response CRS) sets the grid.
    """
    request_crs = crs
    out = response_crs or request_crs
    left, bottom, right, top = bbox
    if not (right > left and top > bottom):
        raise ArgumentInvalid(f"BBOX {bbox} is empty or inverted (minx,miny,maxx,maxy)")
    box = bbox if out == request_crs else _transform(request_crs, out, bbox)
    if size is not None:
        width, height = size
    elif resolution is not None:
        width = max(1, round((box[2] - box[0]) / resolution[0]))
        height = max(1, round((box[3] - box[1]) / resolution[1]))
    else:
        raise ArgumentInvalid("Give WIDTH and HEIGHT or RESX and RESY")
    return Window(out, box, width, height, times)
