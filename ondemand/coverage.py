"""A job's result seen as a coverage: its grid, axes and range, and requests as windows.

Free of any web framework: WCS endpoints (``services/wcs*.py``) parse their KVP into
a :class:`CoverageRequest` and this module turns it into the one :class:`Window` the
shared evaluator runs. Spatial axes are labelled as their CRS abbreviates them (``E``
``N`` for UTM, ``Lat`` ``Long`` for EPSG:4326); a kept time axis is ``ansi`` (OGC
AnsiDate: days since 1600-12-31T00:00Z), and subsets on it take ISO dates too.

Semantics (documented in ``docs/wcs.md``):

- a spatial trim is clipped to the coverage's extent; a trim or slice that misses it
  is :class:`SubsetInvalid`. On the native CRS without scaling, the result keeps the
  native pixels (the trim grows to whole native pixels); a spatial slice keeps the
  one pixel row or column that holds the point;
- a time slice picks the date of that day (or that exact datetime); a trim keeps the
  dates inside it;
- ``SCALEFACTOR=f`` divides the number of pixels by ``f`` (2 halves them);
  ``SCALESIZE`` sets them; ``SCALEAXES`` divides per axis; ``SCALEEXTENT`` sets them
  from a ``lo:hi`` grid range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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
from .errors import (
    ArgumentInvalid,
    AxisLabelInvalid,
    NoData,
    PixelLimitExceeded,
    ScaleInvalid,
    SubsetInvalid,
)
from .grid import snap_outward
from .layer import Layer, parse_time_value
from .processes.resample import fit_to_window
from .window import Bounds, Window, parse_crs

Role = Literal["x", "y", "t"]

ANSI_EPOCH = datetime(1600, 12, 31, tzinfo=UTC)
"""Origin of the OGC AnsiDate CRS (day 1 is 1601-01-01)."""
ANSI_CRS_URI = "http://www.opengis.net/def/crs/OGC/0/AnsiDate"
TIME_LABELS = ("ansi", "time", "t", "date")
"""Labels accepted for the time axis (``ansi`` is the one DescribeCoverage names)."""
X_LABELS = frozenset({"x", "e", "easting", "lon", "long", "longitude", "i"})
Y_LABELS = frozenset({"y", "n", "northing", "lat", "latitude", "j"})
OGC_AXIS_URI = "http://www.opengis.net/def/axis/OGC/1/"
_UOM = {"metre": "m", "meter": "m", "degree": "deg", "US survey foot": "ft_us", "foot": "ft"}
_LABELS = {"Lon": "Long"}
"""Axis abbreviations written as WCS servers and clients spell them."""


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


def crs_uri(crs: CRS) -> str:
    """The OGC URI of ``crs`` (``http://www.opengis.net/def/crs/EPSG/0/32632``)."""
    authority = crs.to_authority()
    if authority is None:
        raise ArgumentInvalid(f"CRS {crs.to_string()!r} has no EPSG or OGC code")
    name, code = authority
    if name == "OGC":
        return f"http://www.opengis.net/def/crs/OGC/1.3/{code}"
    return f"http://www.opengis.net/def/crs/{name}/0/{code}"


def crs_code(crs: CRS) -> str:
    """``EPSG:32632``: the short form WCS 1.0 uses."""
    authority = crs.to_authority()
    if authority is None:
        raise ArgumentInvalid(f"CRS {crs.to_string()!r} has no EPSG or OGC code")
    return f"{authority[0]}:{authority[1]}"


def in_crs_order(crs: CRS, x: float, y: float) -> tuple[float, float]:
    """``(x, y)`` (easting/longitude first) in the axis order of ``crs``."""
    return (x, y) if crs_axes(crs)[0].role == "x" else (y, x)


def axis_role(label: str, crs: CRS, has_time: bool) -> Role:
    """The role of an axis label (a CRS abbreviation, x/y/i/j, an OGC axis URI, ansi)."""
    text = label.strip()
    if text.startswith(OGC_AXIS_URI):
        text = text[len(OGC_AXIS_URI):]
    lowered = text.lower()
    if lowered in TIME_LABELS:
        if not has_time:
            raise AxisLabelInvalid(
                f"Axis {label!r}: this coverage has no time axis (its time is reduced away)"
            )
        return "t"
    for axis in crs_axes(crs):
        if lowered == axis.label.lower():
            return axis.role
    if lowered in X_LABELS:
        return "x"
    if lowered in Y_LABELS:
        return "y"
    names = " ".join(a.label for a in crs_axes(crs)) + (" ansi" if has_time else "")
    raise AxisLabelInvalid(f"Unknown axis {label!r}; the axes are: {names}")


# -- time -----------------------------------------------------------------------------


def to_ansi(moment: datetime) -> float:
    """An instant as OGC AnsiDate days (fractional)."""
    return (moment - ANSI_EPOCH) / timedelta(days=1)


def from_ansi(days: float) -> datetime:
    """OGC AnsiDate days as a UTC datetime (to the millisecond, dropping float noise)."""
    return ANSI_EPOCH + timedelta(milliseconds=round(days * 86_400_000))


def iso(moment: datetime) -> str:
    """``2017-01-04T10:05:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_grid(times: Sequence[datetime]) -> tuple[float, int]:
    """A regular AnsiDate step (days) holding every date, and the number of steps.

    The step is the greatest common divisor of the dates' distances (in seconds), so
    every date is a grid point: dates 10 days apart give a 10-day step.
    """
    seconds = [round((t - times[0]).total_seconds()) for t in times[1:]]
    step = 0
    for value in seconds:
        step = math.gcd(step, value)
    if step == 0:
        return 1.0, len(times)
    return step / 86400, seconds[-1] // step + 1


def parse_time_point(text: str) -> date | datetime:
    """A time coordinate: an ISO date or datetime (quoted or not), or AnsiDate days."""
    value = text.strip().strip('"').strip("'")
    try:
        return from_ansi(float(value))
    except ValueError:
        pass
    try:
        return parse_time_value(value)
    except ArgumentInvalid:
        raise SubsetInvalid(
            f"Time {text!r} is not an ISO date or datetime nor an AnsiDate number"
        ) from None


def select_times(
    times: tuple[datetime, ...], low: str | None, high: str | None, *, slice_: bool
) -> tuple[datetime, ...]:
    """The dates a time slice (``low`` only) or trim (``low``/``high``, None open) keeps."""
    available = ", ".join(t.date().isoformat() for t in times)
    if slice_:
        assert low is not None
        wanted = parse_time_point(low)
        for label in times:
            if isinstance(wanted, datetime):  # AnsiDate numbers carry float noise
                hit = abs((label - wanted).total_seconds()) < 1
            else:
                hit = label.date() == wanted
            if hit:
                return (label,)
        raise SubsetInvalid(f"Time {low!r} is not a date of this coverage; dates: {available}")
    start = _time_edge(low, False)
    end = _time_edge(high, True)
    if start is not None and end is not None and start > end:
        raise SubsetInvalid(f"Time trim ({low}, {high}) has its lower bound above the upper")
    kept = tuple(
        t for t in times if (start is None or t >= start) and (end is None or t <= end)
    )
    if not kept:
        raise SubsetInvalid(f"Time trim ({low}, {high}) holds no date; dates: {available}")
    return kept


def _time_edge(text: str | None, upper: bool) -> datetime | None:
    """A trim bound as an instant; a date bound covers its whole day."""
    if text is None:
        return None
    value = parse_time_point(text)
    if isinstance(value, datetime):
        return value
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if upper else start


# -- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Subset:
    """A WCS 2.0 trim (``low``, ``high``; None is open) or slice (``high`` unused)."""

    axis: str
    low: str | None
    high: str | None = None
    is_slice: bool = False
    crs: str | None = None


_SUBSET = re.compile(r"^\s*([^,(\s]+)\s*(?:,\s*([^()]+?))?\s*\((.*)\)\s*$")


def parse_subset(text: str) -> Subset:
    """Parse ``axis(lo,hi)``, ``axis(point)`` or the draft form ``axis,CRS(lo,hi)``."""
    match = _SUBSET.match(text)
    if match is None:
        raise SubsetInvalid(f"SUBSET={text!r} is not axis(low,high) or axis(point)")
    axis, crs, inside = match.groups()
    parts = [p.strip().strip('"').strip("'").strip() for p in inside.split(",")]
    if len(parts) == 1 and parts[0]:
        return Subset(axis, parts[0], None, True, crs)
    if len(parts) != 2 or not all(parts):
        raise SubsetInvalid(f"SUBSET={text!r} is not axis(low,high) or axis(point)")
    low, high = (None if p == "*" else p for p in parts)
    return Subset(axis, low, high, False, crs)


def parse_axis_values(text: str, name: str) -> list[tuple[str, str]]:
    """``E(200),N(100)`` (scaling parameters) as ``[(axis, value), ...]``."""
    pairs = re.findall(r"([^,()\s]+)\s*\(([^()]*)\)", text)
    if not pairs or re.sub(r"[^,()\s]+\s*\([^()]*\)|[\s,]", "", text):
        raise ScaleInvalid(f"{name}={text!r} is not axis(value)[,axis(value)...]")
    return [(axis, value.strip()) for axis, value in pairs]


def _number(text: str | None, what: str) -> float:
    try:
        value = float(str(text).strip().strip('"'))
    except ValueError:
        raise SubsetInvalid(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise SubsetInvalid(f"{what} {text!r} is not a finite number")
    return value


@dataclass(frozen=True)
class Scaling:
    """Output size rules: exact sizes or divisors per role (``x``/``y``)."""

    sizes: dict[str, int] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)

    def apply(self, width: int, height: int) -> tuple[int, int]:
        """The scaled size of a ``width`` x ``height`` grid."""
        out = {"x": width, "y": height}
        for role, factor in self.factors.items():
            out[role] = max(1, round(out[role] / factor))
        out.update(self.sizes)
        return out["x"], out["y"]

    @property
    def active(self) -> bool:
        """Whether any scaling is asked for."""
        return bool(self.sizes or self.factors)


def parse_scaling(
    crs: CRS,
    *,
    size: Sequence[str] = (),
    factor: str | None = None,
    axes: Sequence[str] = (),
    extent: Sequence[str] = (),
) -> Scaling:
    """SCALESIZE / SCALEFACTOR / SCALEAXES / SCALEEXTENT on the output CRS's axes."""
    sizes: dict[str, int] = {}
    factors: dict[str, float] = {}
    if factor is not None:
        uniform = _positive(factor, "SCALEFACTOR")
        factors = {"x": uniform, "y": uniform}
    for text in axes:
        for axis, value in parse_axis_values(text, "SCALEAXES"):
            factors[_scale_role(axis, crs)] = _positive(value, "SCALEAXES")
    for text in size:
        for axis, value in parse_axis_values(text, "SCALESIZE"):
            sizes[_scale_role(axis, crs)] = _count(value, "SCALESIZE")
    for text in extent:
        for axis, value in parse_axis_values(text, "SCALEEXTENT"):
            low, _, high = value.partition(":")
            span = _integer(high, "SCALEEXTENT") - _integer(low, "SCALEEXTENT") + 1
            sizes[_scale_role(axis, crs)] = _count(str(span), "SCALEEXTENT")
    return Scaling(sizes, factors)


def _scale_role(axis: str, crs: CRS) -> str:
    try:
        role = axis_role(axis, crs, False)
    except AxisLabelInvalid as exc:
        raise ScaleInvalid(exc.message) from None
    return role


def _positive(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScaleInvalid(f"{name} value {text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise ScaleInvalid(f"{name} value {text!r} must be a positive number")
    return value


def _integer(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ScaleInvalid(f"{name} value {text!r} is not an integer") from None


def _count(text: str, name: str) -> int:
    value = _integer(text, name)
    if value < 1:
        raise ScaleInvalid(f"{name} value {text!r} must be at least 1")
    return value


@dataclass(frozen=True)
class CoverageRequest:
    """A WCS 2.0 GetCoverage, parsed: subsets, CRSs, scaling."""

    subsets: tuple[Subset, ...] = ()
    subsetting_crs: str | None = None
    output_crs: str | None = None
    scale_size: tuple[str, ...] = ()
    scale_factor: str | None = None
    scale_axes: tuple[str, ...] = ()
    scale_extent: tuple[str, ...] = ()

    def scaling(self, crs: CRS) -> Scaling:
        """The scaling parameters, their axes resolved on the output CRS ``crs``."""
        return parse_scaling(
            crs,
            size=self.scale_size,
            factor=self.scale_factor,
            axes=self.scale_axes,
            extent=self.scale_extent,
        )


def window_for(coverage: Coverage, request: CoverageRequest) -> Window:
    """The window of a WCS 2.0 GetCoverage (see the module doc for the semantics)."""
    subset_crs, ranges, times = _subset_ranges(coverage, request)
    output = parse_crs(request.output_crs) if request.output_crs else subset_crs
    extent = _extent_in(coverage, subset_crs)
    left = max(extent[0], ranges["x"][0] if "x" in ranges else extent[0])
    right = min(extent[2], ranges["x"][1] if "x" in ranges else extent[2])
    bottom = max(extent[1], ranges["y"][0] if "y" in ranges else extent[1])
    top = min(extent[3], ranges["y"][1] if "y" in ranges else extent[3])
    for role, (low, high) in ranges.items():
        if low > high:
            raise SubsetInvalid(f"Subset on {role} has its lower bound {low} above {high}")
    if left > right or bottom > top:
        raise SubsetInvalid(
            "The subset lies outside the coverage; its extent (min x, min y, max x, max y) in "
            f"{crs_code(subset_crs)} is {_format_bounds(extent)}"
        )
    box = (left, bottom, right, top)
    scaling = request.scaling(output)
    if output == coverage.crs:
        return _native_window(coverage, subset_crs, box, scaling, times)
    out_box = box if output == subset_crs else _transform(subset_crs, output, box)
    width, height = _estimated_size(coverage, output, out_box)
    width, height = scaling.apply(width, height)
    return Window(output, _nonempty(out_box, width, height), width, height, times)


def _subset_ranges(
    coverage: Coverage, request: CoverageRequest
) -> tuple[CRS, dict[str, tuple[float, float]], tuple[datetime, ...] | None]:
    """The subsetting CRS, the spatial ranges per role in it, and the time selection."""
    inline = {s.crs for s in request.subsets if s.crs}
    if len(inline) > 1:
        raise SubsetInvalid("The subsets name different CRSs; use one SUBSETTINGCRS")
    crs_text = request.subsetting_crs or (inline.pop() if inline else None)
    subset_crs = parse_crs(crs_text) if crs_text else coverage.crs
    ranges: dict[str, tuple[float, float]] = {}
    times = None
    for subset in dict.fromkeys(request.subsets):  # the same subset twice counts once
        role = axis_role(subset.axis, subset_crs, coverage.times is not None)
        if role in ranges or (role == "t" and times is not None):
            raise SubsetInvalid(f"Axis {subset.axis!r} is subset twice")
        if role == "t":
            assert coverage.times is not None
            times = select_times(coverage.times, subset.low, subset.high, slice_=subset.is_slice)
            continue
        if subset.is_slice:
            point = _number(subset.low, f"Slice on {subset.axis}")
            ranges[role] = (point, point)
        else:
            low = -math.inf if subset.low is None else _number(subset.low, "Trim bound")
            high = math.inf if subset.high is None else _number(subset.high, "Trim bound")
            ranges[role] = (low, high)
    return subset_crs, ranges, times


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


def _one_pixel(value: float, origin: float, res: float, low: float, high: float) -> tuple[
    float, float
]:
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
    crs: str,
    bbox: Bounds,
    response_crs: str | None = None,
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
    request_crs = parse_crs(crs)
    out = parse_crs(response_crs) if response_crs else request_crs
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


def times_10(coverage: Coverage, text: str | None) -> tuple[datetime, ...] | None:
    """WCS 1.0 TIME: a date, a comma list, or ``start/end[/period]``; None keeps all."""
    if coverage.times is None or text is None:
        return None
    picked: list[datetime] = []
    for part in text.split(","):
        if "/" in part:
            low, high = (part.split("/") + [""])[:2]
            picked.extend(select_times(coverage.times, low or None, high or None, slice_=False))
        else:
            picked.extend(select_times(coverage.times, part, None, slice_=True))
    return tuple(sorted(set(picked)))
