"""A compiled job seen as a map layer: extent, native grid, dates, bands.

Built once per job (when it is published) from the compiled graph, so tiles and
coverages never re-plan. ``select_time`` maps what clients send (a WMTS ``Time``
value, a TMS path date, ``?time=``) to the exact time label of the result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from .errors import ArgumentInvalid, NoData
from .evaluate import CompiledGraph
from .grid import default_window, graph_items
from .read import group_by_day
from .window import Bounds

DEFAULT_TIME_WORDS = frozenset({"", "default", "current", "latest"})
"""Time values that mean the layer's default (latest) date."""

WGS84 = CRS.from_epsg(4326)
T = TypeVar("T")


@dataclass(frozen=True)
class Layer:
    """What OGC services publish of one job."""

    id: str
    title: str
    compiled: CompiledGraph
    native_crs: CRS
    native_bounds: Bounds
    native_resolution: float
    bounds_wgs84: Bounds
    times: tuple[datetime, ...] | None
    """Dates of the result's time axis (ascending), or None when time is reduced away."""
    bands: tuple[str, ...] | None
    _derived: dict[Hashable, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Values derived from the layer, kept with it (see :meth:`derived`)."""

    def derived(self, name: Hashable, compute: Callable[[], T]) -> T:
        """The value ``name`` derived from this layer, computed by ``compute`` on first use.

        The one per-layer memo (tile-cache fingerprint, default style, a coverage's
        range type): it lives and dies with the layer object. Two threads asking at
        once may both compute; the first stored value wins.
        """
        try:
            value: T = self._derived[name]
        except KeyError:
            value = self._derived.setdefault(name, compute())
        return value

    @property
    def has_time(self) -> bool:
        """Whether each tile is one date of a time series."""
        return self.times is not None

    @property
    def default_time(self) -> datetime | None:
        """The latest date, served when a client names none."""
        return self.times[-1] if self.times else None

    def select_time(self, value: str | None) -> tuple[datetime, ...] | None:
        """The time selection of a window for a client's time value.

        ``None``, ``default``, ``current`` and ``latest`` mean the default (latest) date;
        otherwise an ISO date or datetime that must match one of the layer's dates (a date,
        or midnight UTC of it in any ISO form, matches the acquisition of that day).
        Layers without a time axis ignore the value.
        An unknown date is ArgumentInvalid.
        """
        if self.times is None:
            return None
        text = (value or "").strip()
        if text.lower() in DEFAULT_TIME_WORDS:
            assert self.default_time is not None
            return (self.default_time,)
        wanted = parse_time_value(text)
        for label in self.times:
            if isinstance(wanted, datetime) and label == wanted:
                return (label,)
        day = _day_of(wanted)
        for label in self.times:
            if day is not None and label.date() == day:
                return (label,)
        available = ", ".join(t.date().isoformat() for t in self.times)
        raise ArgumentInvalid(f"Time {value!r} is not a date of this layer; available: {available}")


def parse_time_value(text: str) -> date | datetime:
    """An ISO date (``2017-01-03``) or datetime (``2017-01-03T10:00:00Z``)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ArgumentInvalid(
            f"Time {text!r} is not an ISO date (YYYY-MM-DD) or datetime"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day_of(value: date | datetime) -> date | None:
    """The day a time value names as a whole: a date, or a datetime at midnight UTC."""
    if not isinstance(value, datetime):
        return value
    moment = value.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date()
    return None


def make_layer(layer_id: str, title: str, compiled: CompiledGraph) -> Layer:
    """Describe a compiled graph as a layer: native grid of its first collection, its dates."""
    window = default_window(compiled)
    native = compiled.collections[0]
    bounds_wgs84 = transform_bounds(window.crs, WGS84, *window.bounds, densify_pts=21)
    result = compiled.result_type
    times = _result_times(compiled) if result.has_time else None
    return Layer(
        id=layer_id,
        title=title,
        compiled=compiled,
        native_crs=window.crs,
        native_bounds=window.bounds,
        native_resolution=native.resolution,
        bounds_wgs84=tuple(bounds_wgs84),
        times=times,
        bands=result.bands,
    )


def acquisition_times(compiled: CompiledGraph) -> tuple[datetime, ...]:
    """The acquisition days the graph's reads select over its extent, as time labels."""
    labels = {a.time for _, items in graph_items(compiled) for a in group_by_day(items)}
    return tuple(sorted(labels))


def _result_times(compiled: CompiledGraph) -> tuple[datetime, ...]:
    """The dates of a time-series result; NoData when the graph selects none."""
    times = acquisition_times(compiled)
    if not times:
        raise NoData("The job selects no data: no item matches its bounding box and dates")
    return times
