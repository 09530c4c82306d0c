"""Shared parameter schemas and value parsers (bounding boxes, dates, band lists)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rasterio.crs import CRS

from ..errors import ArgumentInvalid, BandNotFound, InvalidCRS, OutOfBounds
from ..window import Bounds, parse_crs
from .registry import Parameter
from .types import RASTER_CUBE, Check, ValueType

CUBE_SCHEMA: Mapping[str, Any] = {"type": "object", "subtype": RASTER_CUBE}
NUMBER_SCHEMA: Mapping[str, Any] = {"type": "number"}
ARRAY_SCHEMA: Mapping[str, Any] = {"type": "array", "items": {"type": ["number", "null"]}}
BBOX_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "subtype": "bounding-box",
    "required": ["west", "south", "east", "north"],
    "properties": {
        "west": {"type": "number"}, "south": {"type": "number"},
        "east": {"type": "number"}, "north": {"type": "number"},
        "crs": {"type": ["string", "integer"], "default": "EPSG:4326"},
    },
}
INTERVAL_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "subtype": "temporal-interval",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": ["string", "null"], "format": "date-time"},
}
BANDS_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {"type": ["string", "integer"], "subtype": "band-name"},
}

DATA = Parameter("data", "A raster data cube.", CUBE_SCHEMA)
DATA_LEGACY: Mapping[str, str] = {"imagery": "data"}
"""The draft calls the input cube ``imagery``."""

CUBE_RETURNS: Mapping[str, Any] = {"description": "A raster data cube.", "schema": CUBE_SCHEMA}

_BBOX_KEYS = ("west", "south", "east", "north")
_DATE_ONLY = 10
_YEAR_ONLY = 4


def bbox_from(extent: Any, where: str) -> tuple[Bounds, CRS]:
    """``{west, south, east, north, crs?}`` -> ``((left, bottom, right, top), crs)``.

    North and south are put in order when swapped (the draft's own example swaps
    them); west > east is an error. ``where`` prefixes messages.
    """
    if not isinstance(extent, Mapping):
        raise ArgumentInvalid(f"{where}: expected a bounding box object, got {extent!r}")
    missing = [k for k in _BBOX_KEYS if k not in extent]
    unknown = sorted(k for k in extent if k not in (*_BBOX_KEYS, "crs", "base", "height"))
    if missing or unknown:
        raise ArgumentInvalid(
            f"{where}: a bounding box has west, south, east, north and crs"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {unknown}" if unknown else "")
        )
    values = []
    for key in _BBOX_KEYS:
        v = extent[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ArgumentInvalid(f"{where}: {key} must be a number, got {v!r}")
        values.append(float(v))
    west, south, east, north = values
    if west >= east:
        raise ArgumentInvalid(f"{where}: west ({west:g}) must be less than east ({east:g})")
    south, north = min(south, north), max(south, north)
    if south == north:
        raise ArgumentInvalid(f"{where}: south and north are equal ({south:g})")
    crs_value = extent.get("crs", "EPSG:4326")
    if crs_value is None:
        crs_value = "EPSG:4326"
    if isinstance(crs_value, bool) or not isinstance(crs_value, str | int):
        raise ArgumentInvalid(f"{where}: crs must be a string or an EPSG code, got {crs_value!r}")
    try:
        crs = parse_crs(crs_value)
    except InvalidCRS as exc:
        raise InvalidCRS(f"{where}: {exc.message}") from None
    if crs.is_geographic and (south < -90 or north > 90 or west < -180 or east > 180):
        raise OutOfBounds(f"{where}: ({west:g}, {south:g}, {east:g}, {north:g}) is outside "
                          "longitude -180..180 / latitude -90..90")
    return (west, south, east, north), crs


def normalize_bbox(extent: Any) -> Any:
    """Tolerantly order a bbox's south/north and write an EPSG number as ``EPSG:n``."""
    if not isinstance(extent, Mapping):
        return extent
    out = dict(extent)
    south, north = out.get("south"), out.get("north")
    if isinstance(south, int | float) and isinstance(north, int | float) and south > north:
        out["south"], out["north"] = north, south
    crs = out.get("crs")
    if isinstance(crs, int) and not isinstance(crs, bool):
        out["crs"] = f"EPSG:{crs}"
    return out


def parse_instant(text: Any, *, end: bool, where: str) -> datetime | None:
    """An ISO 8601 date or datetime as an aware UTC datetime (``None`` stays open).

    A date-only end means the whole day, inclusive (``2017-01-31`` ends at
    ``2017-01-31T23:59:59.999999Z``), a year-only one (``2017``) the whole year;
    naive datetimes are UTC.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise ArgumentInvalid(f"{where}: expected an ISO 8601 date or datetime, got {text!r}")
    value = text.strip()
    if len(value) == _YEAR_ONLY and value.isdigit():
        value = f"{value}-12-31" if end else f"{value}-01-01"
    try:
        if len(value) == _DATE_ONLY:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1, microseconds=-1) if end else start
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ArgumentInvalid(
            f"{where}: {text!r} is not an ISO 8601 date (YYYY-MM-DD) or datetime"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def interval_from(extent: Any, where: str) -> tuple[datetime | None, datetime | None]:
    """``[start, end]`` -> inclusive UTC datetimes; one end may be null, not both."""
    if isinstance(extent, str) or not isinstance(extent, Sequence) or len(extent) != 2:
        raise ArgumentInvalid(f"{where}: expected [start, end], got {extent!r}")
    start = parse_instant(extent[0], end=False, where=where)
    end = parse_instant(extent[1], end=True, where=where)
    if start is None and end is None:
        raise ArgumentInvalid(f"{where}: start and end cannot both be null")
    if start is not None and end is not None and start > end:
        raise ArgumentInvalid(f"{where}: start {extent[0]!r} is after end {extent[1]!r}")
    return start, end


def exclusive_end(extent: Any) -> Any:
    """openEO 1.x's left-closed ``[start, end)`` as the canonical inclusive interval.

    The end instant moves back by one microsecond (``2018-02-01`` -> ``2018-01-31T
    23:59:59.999999+00:00``), so evaluation, planning and hashing see one meaning
    whichever API a graph came through. Values that are not a valid interval are
    returned unchanged (validation reports them).
    """
    if isinstance(extent, str) or not isinstance(extent, Sequence) or len(extent) != 2:
        return extent
    if not isinstance(extent[1], str):
        return extent
    try:
        end = parse_instant(extent[1], end=False, where="")
    except ArgumentInvalid:
        return extent
    assert end is not None
    return (extent[0], (end - timedelta(microseconds=1)).isoformat())


def band_refs(value: Any, where: str) -> tuple[str | int, ...]:
    """A non-empty list of band references (names, ids, common names, integers)."""
    refs = (value,) if isinstance(value, str | int) else value
    if (
        isinstance(refs, str)
        or not isinstance(refs, Sequence)
        or not refs
        or any(isinstance(r, bool) or not isinstance(r, str | int) for r in refs)
    ):
        raise ArgumentInvalid(f"{where}: expected a non-empty list of band names, got {value!r}")
    return tuple(refs)


def resolve_band_type(check: Check, name: str, ref: str | int, cube: ValueType) -> str:
    """Resolve a band reference against a cube type (through its collection when known)."""
    if cube.collection is not None:
        try:
            band = cube.collection.band(ref).name
        except BandNotFound as exc:
            raise BandNotFound(f"{check.where}: argument {name!r}: {exc.message}") from None
        if cube.bands is not None and band not in cube.bands:
            raise BandNotFound(
                f"{check.where}: argument {name!r}: band {ref!r} ({band}) was filtered out; "
                f"selected bands: {', '.join(cube.bands)}"
            )
        return band
    if cube.bands is not None and str(ref) not in cube.bands:
        raise BandNotFound(
            f"{check.where}: argument {name!r}: no band {ref!r}; bands: {', '.join(cube.bands)}"
        )
    return str(ref)
