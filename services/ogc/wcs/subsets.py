"""WCS GetCoverage parameters as sent (SUBSET, SUBSETTINGCRS, OUTPUTCRS, SCALE*, TIME),
resolved against a coverage into the engine's typed :class:`~ondemand.coverage.CoverageRequest`.

The draft's ``SUBSET=x,CRS(lo,hi)`` form is accepted (the CRS inside is a subsetting
CRS). Errors are the engine's: SubsetInvalid, AxisLabelInvalid, ScaleInvalid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rasterio.crs import CRS

from ondemand.coverage import Coverage, CoverageRequest, Scaling
from ondemand.errors import AxisLabelInvalid, ScaleInvalid, SubsetInvalid
from ondemand.window import parse_crs

from .axes import axis_role, times_between


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
class GetCoverage:
    """The subset, CRS and scaling parameters of a WCS 2.0 GetCoverage, as sent."""

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


def coverage_request(coverage: Coverage, query: GetCoverage) -> CoverageRequest:
    """Resolve ``query``'s axis labels, numbers, dates and CRSs against ``coverage``."""
    subset_crs, ranges, times = _subset_ranges(coverage, query)
    output = parse_crs(query.output_crs) if query.output_crs else subset_crs
    return CoverageRequest(
        crs=subset_crs,
        x=ranges.get("x"),
        y=ranges.get("y"),
        times=times,
        output_crs=output,
        scaling=query.scaling(output),
    )


def _subset_ranges(
    coverage: Coverage, request: GetCoverage
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
            times = times_between(
                coverage.times, subset.low, subset.high, slice_=subset.is_slice
            )
            continue
        if subset.is_slice:
            point = _number(subset.low, f"Slice on {subset.axis}")
            ranges[role] = (point, point)
        else:
            low = -math.inf if subset.low is None else _number(subset.low, "Trim bound")
            high = math.inf if subset.high is None else _number(subset.high, "Trim bound")
            ranges[role] = (low, high)
    return subset_crs, ranges, times


def times_10(coverage: Coverage, text: str | None) -> tuple[datetime, ...] | None:
    """WCS 1.0 TIME: a date, a comma list, or ``start/end[/period]``; None is the latest.

    Without TIME a time series answers its latest date (WMTS's default), one band per
    range component as DescribeCoverage declares; None for a coverage without time.
    """
    if coverage.times is None:
        return None
    if text is None:
        return coverage.times[-1:]
    picked: list[datetime] = []
    for part in text.split(","):
        if "/" in part:
            low, high = (part.split("/") + [""])[:2]
            picked.extend(times_between(coverage.times, low or None, high or None, slice_=False))
        else:
            picked.extend(times_between(coverage.times, part, None, slice_=True))
    return tuple(sorted(set(picked)))
