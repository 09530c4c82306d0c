"""WCS axis and time vocabulary: axis labels, OGC CRS URIs, OGC AnsiDate, ISO instants.

A kept time axis is ``ansi`` (OGC AnsiDate: days since 1600-12-31T00:00Z); subsets on
it also take ISO dates. Spatial axis labels are the CRS's abbreviations
(:func:`ondemand.coverage.crs_axes`), or x/y/i/j and their usual names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rasterio.crs import CRS

from ondemand.coverage import Role, TimePoint, crs_axes, select_times
from ondemand.errors import ArgumentInvalid, AxisLabelInvalid, SubsetInvalid
from ondemand.layer import parse_time_value

ANSI_EPOCH = datetime(1600, 12, 31, tzinfo=UTC)
"""Origin of the OGC AnsiDate CRS (day 1 is 1601-01-01)."""
ANSI_CRS_URI = "http://www.opengis.net/def/crs/OGC/0/AnsiDate"
TIME_LABELS = ("ansi", "time", "t", "date")
"""Labels accepted for the time axis (``ansi`` is the one DescribeCoverage names)."""
X_LABELS = frozenset({"x", "e", "easting", "lon", "long", "longitude", "i"})
Y_LABELS = frozenset({"y", "n", "northing", "lat", "latitude", "j"})
OGC_AXIS_URI = "http://www.opengis.net/def/axis/OGC/1/"


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


def to_ansi(moment: datetime) -> float:
    """An instant as OGC AnsiDate days (fractional)."""
    return (moment - ANSI_EPOCH) / timedelta(days=1)


def from_ansi(days: float) -> datetime:
    """OGC AnsiDate days as a UTC datetime (to the millisecond, dropping float noise)."""
    return ANSI_EPOCH + timedelta(milliseconds=round(days * 86_400_000))


def iso(moment: datetime) -> str:
    """``2017-01-04T10:05:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time_point(text: str) -> TimePoint:
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


def times_between(
    times: tuple[datetime, ...], low: str | None, high: str | None, *, slice_: bool
) -> tuple[datetime, ...]:
    """The dates a time slice or trim written as text (ISO or AnsiDate; None open) keeps."""
    return select_times(
        times,
        None if low is None else parse_time_point(low),
        None if high is None else parse_time_point(high),
        slice_=slice_,
    )
