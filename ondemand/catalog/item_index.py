"""In-memory spatio-temporal index of items: bbox arrays, sorted times, exact footprints."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

from ..errors import CatalogInvalid
from ..window import Bounds

WGS84 = CRS.from_epsg(4326)


class Footprinted(Protocol):
    """What the index reads of an item."""

    @property
    def datetime(self) -> datetime:
        """Acquisition time (timezone-aware)."""

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """WGS84 bounding box."""

    @property
    def geometry(self) -> dict[str, Any]:
        """WGS84 GeoJSON footprint."""


T = TypeVar("T", bound=Footprinted)


class ItemIndex(Generic[T]):
    """Item bboxes as arrays plus sorted timestamps: fast bbox and date filtering.

    ``items`` must be sorted by datetime.
    """

    complete = True
    """An index holds every item it can return."""

    def __init__(self, items: Sequence[T]) -> None:
        self.items = tuple(items)
        self.times = [i.datetime.timestamp() for i in self.items]
        boxes = np.array([i.bbox for i in self.items], dtype=float).reshape(-1, 4)
        self.west, self.south, self.east, self.north = boxes.T
        self.rect = [is_rectangle(i.geometry, i.bbox) for i in self.items]
        self.rings = [
            None if rect else [np.asarray(r, dtype=float)[:, :2] for r in exteriors(i.geometry)]
            for i, rect in zip(self.items, self.rect, strict=True)
        ]

    def search(
        self, bounds: Bounds, crs: CRS, start: datetime | None, end: datetime | None
    ) -> list[T]:
        """Items intersecting ``bounds`` in ``crs`` dated in ``[start, end]`` (inclusive)."""
        lo = 0 if start is None else bisect.bisect_left(self.times, utc(start).timestamp())
        hi = len(self.items) if end is None else bisect.bisect_right(
            self.times, utc(end).timestamp()
        )
        if lo >= hi:
            return []
        left, bottom, right, top = (float(v) for v in bounds)
        query = query_in_wgs84(crs, (left, bottom, right, top))
        qwest, qsouth, qeast, qnorth = query.bbox
        sl = slice(lo, hi)
        ok = (self.south[sl] <= qnorth) & (self.north[sl] >= qsouth)
        ok &= _lon_overlap(self.west[sl], self.east[sl], qwest, qeast)
        out = []
        for k in np.flatnonzero(ok):
            idx = lo + int(k)
            rings = self.rings[idx]
            if rings is None or query.ring is None or any(
                _rings_intersect(r, query.ring) for r in rings
            ):
                out.append(self.items[idx])
        return out


@dataclass(frozen=True)
class Query:
    """Query bounds in WGS84: a bbox and (when not crossing the antimeridian) a ring."""

    bbox: tuple[float, float, float, float]
    ring: np.ndarray | None


@lru_cache(maxsize=4096)
def query_in_wgs84(crs: CRS, bounds: tuple[float, float, float, float]) -> Query:
    """Transform query bounds to WGS84 once per (crs, bounds); densified edges."""
    if crs == WGS84 or crs.to_epsg() == 4326:
        w, s, e, n = bounds
        ring = np.array([[w, s], [e, s], [e, n], [w, n], [w, s]], dtype=float)
        return Query(bounds, ring)
    box = transform_bounds(crs, WGS84, *bounds, densify_pts=21)
    w, s, e, n = bounds
    t = np.linspace(0.0, 1.0, 22)[:-1]
    xs = np.concatenate([w + (e - w) * t, np.full_like(t, e), e - (e - w) * t, np.full_like(t, w)])
    ys = np.concatenate([np.full_like(t, s), s + (n - s) * t, np.full_like(t, n), n - (n - s) * t])
    lon, lat = warp_transform(crs, WGS84, xs.tolist(), ys.tolist())
    ring = np.column_stack([lon + lon[:1], lat + lat[:1]])
    if box[0] > box[2] or not np.all(np.isfinite(ring)):
        return Query(box, None)
    return Query(box, ring)


def _lon_overlap(west: np.ndarray, east: np.ndarray, qwest: float, qeast: float) -> np.ndarray:
    """Longitude interval overlap, with either side allowed to cross the antimeridian."""

    def simple(w: np.ndarray, e: np.ndarray, qw: float, qe: float) -> np.ndarray:
        return (w <= qe) & (e >= qw)

    crosses = west > east
    if qwest > qeast:
        parts = [(qwest, 180.0), (-180.0, qeast)]
    else:
        parts = [(qwest, qeast)]
    result = np.zeros(west.shape, dtype=bool)
    for qw, qe in parts:
        result |= simple(west, np.where(crosses, 180.0, east), qw, qe)
        result |= crosses & simple(np.full_like(west, -180.0), east, qw, qe)
    return result


def exteriors(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    """Exterior rings of a Polygon or MultiPolygon."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        return [coords[0]]
    if kind == "MultiPolygon":
        return [poly[0] for poly in coords]
    raise CatalogInvalid(f"unsupported footprint geometry type {kind!r}")


def is_rectangle(geometry: Mapping[str, Any], bbox: tuple[float, ...]) -> bool:
    """Whether the footprint is exactly its bbox (then the bbox test is exact)."""
    try:
        rings = exteriors(geometry)
    except CatalogInvalid:
        return True
    if len(rings) != 1:
        return False
    pts = {(round(p[0], 9), round(p[1], 9)) for p in rings[0]}
    w, s, e, n = bbox[0], bbox[1], bbox[-2], bbox[-1]
    corners = {(round(x, 9), round(y, 9)) for x in (w, e) for y in (s, n)}
    return pts == corners


def _rings_intersect(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two closed simple rings (as filled polygons) intersect."""
    if _points_in_ring(a[:1], b)[0] or _points_in_ring(b[:1], a)[0]:
        return True
    p1, p2 = a[:-1, None, :], a[1:, None, :]
    q1, q2 = b[None, :-1, :], b[None, 1:, :]

    def orient(o: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        cross = (p[..., 0] - o[..., 0]) * (q[..., 1] - o[..., 1]) - (p[..., 1] - o[..., 1]) * (
            q[..., 0] - o[..., 0]
        )
        return np.asarray(np.sign(cross), dtype=float)

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    crossing = (d1 * d2 <= 0) & (d3 * d4 <= 0)
    # collinear segments pass the sign test even when disjoint: check their x/y overlap
    overlap = (
        (np.minimum(p1[..., 0], p2[..., 0]) <= np.maximum(q1[..., 0], q2[..., 0]))
        & (np.minimum(q1[..., 0], q2[..., 0]) <= np.maximum(p1[..., 0], p2[..., 0]))
        & (np.minimum(p1[..., 1], p2[..., 1]) <= np.maximum(q1[..., 1], q2[..., 1]))
        & (np.minimum(q1[..., 1], q2[..., 1]) <= np.maximum(p1[..., 1], p2[..., 1]))
    )
    return bool(np.any(crossing & overlap))


def _points_in_ring(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon for each point."""
    x, y = points[:, 0:1], points[:, 1:2]
    x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    straddle = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xcross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    counts = np.asarray(np.count_nonzero(straddle & (x < xcross), axis=1))
    return np.asarray(counts % 2 == 1, dtype=bool)


def utc(when: datetime) -> datetime:
    """Naive datetimes are UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
