"""Zonal statistics: one value per region, date and band, from each item's native pixels.

Pixel rule: a pixel belongs to a polygon when its centre lies inside it (GDAL's
rasterization rule, as in rasterio and rasterstats); with ``all_touched`` every pixel
the polygon touches belongs to it. Polygons are reprojected to the raster's CRS.
No-data and masked pixels never count; a polygon without any valid pixel gives null
(``count`` gives 0).

Imagery that is still a collection view (``load_collection`` and the filters, masks
included) is read item by item on the item's own pixel grid, never resampled: only
the pixels under the polygons are read, one window per group of nearby polygons. On
a day with several items (adjacent scenes), each ground point is taken from the first
item, in acquisition order, that has a valid pixel there: an item's pixel counts
unless its centre falls on a valid pixel of an earlier item of that day. Computed
imagery (``ndvi``, ``band_math``, reductions …) is evaluated on the request's window
and its pixels are used as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize

from ...catalog import Collection, Item
from ...cube import Cube
from ...errors import ArgumentInvalid, NoData
from ...geometry import reproject, transform_points
from ...read import group_by_day
from ...table import Table
from ...userfiles import FileStore
from ...window import Window
from ..context import CollectionView, EvalContext, as_cube
from .regions import Regions

FUNCS: tuple[str, ...] = ("mean", "min", "max", "median", "sum", "count", "std", "q25", "q75")
ALIASES: Mapping[str, str] = {"avg": "mean", "average": "mean", "sd": "std",
                              "percentile_25": "q25", "percentile_75": "q75"}
GROUP_BLOCK = 1024
"""Polygons whose bounding-box centres fall in one block of this many pixels share a read."""
FIXED_COLUMNS = ("source", "feature", "date")


def func_name(value: Any) -> str:
    """The canonical statistic name (ArgumentInvalid for an unknown one)."""
    if isinstance(value, str):
        name = ALIASES.get(value.strip().lower(), value.strip().lower())
        if name in FUNCS:
            return name
    raise ArgumentInvalid(
        f"func: {value!r} is not a statistic; use one of avg (mean), {', '.join(FUNCS[1:])}"
    )


def statistic(values: np.ndarray, func: str) -> float | int | None:
    """``func`` of 1-D float64 ``values`` (the valid pixels); None when empty (count: 0)."""
    if values.size == 0:
        return 0 if func == "count" else None
    if func == "count":
        return int(values.size)
    if func == "q25":
        return float(np.percentile(values, 25))
    if func == "q75":
        return float(np.percentile(values, 75))
    return float(_REDUCERS[func](values))


_REDUCERS: Mapping[str, Callable[[np.ndarray], Any]] = {
    "mean": np.mean, "min": np.min, "max": np.max, "median": np.median,
    "sum": np.sum, "std": np.std,
}


def zonal_statistics(
    imagery: Any, regions: Regions, func: str, all_touched: bool, ctx: EvalContext
) -> Table:
    """The long table region x date: attributes, ``date`` and one ``<band>_<func>`` per band."""
    window = ctx.window  # the planner stops here: the view is recorded as read
    if isinstance(imagery, CollectionView):
        steps = _native_steps(imagery, regions, func, all_touched, ctx, window)
        bands = imagery.band_names
    else:
        cube = as_cube(imagery, ctx)
        steps = _cube_steps(cube, regions, func, all_touched)
        bands = cube.bands
    return _table(regions, steps, bands, func)


Step = tuple[datetime | None, list[list[float | int | None]]]
"""One date: its label and, per region, one value per band."""


# --------------------------------------------------------------------------- rasterizing


@dataclass(frozen=True)
class Zone:
    """One polygon on one grid: the slice of the grid around it and its pixels there."""

    rows: slice
    cols: slice
    inside: np.ndarray
    transform: Affine


def zone(
    geometry: Any, transform: Affine, shape: tuple[int, int], all_touched: bool
) -> Zone | None:
    """Rasterize ``geometry`` on the part of the grid (``transform``, ``shape``) around it."""
    minx, miny, maxx, maxy = geometry.bounds
    inverse = ~transform
    corners = [inverse * (x, y) for x in (minx, maxx) for y in (miny, maxy)]
    col0 = max(0, math.floor(min(c for c, _ in corners)) - 1)
    col1 = min(shape[1], math.ceil(max(c for c, _ in corners)) + 1)
    row0 = max(0, math.floor(min(r for _, r in corners)) - 1)
    row1 = min(shape[0], math.ceil(max(r for _, r in corners)) + 1)
    if col0 >= col1 or row0 >= row1:
        return None
    sub = transform * Affine.translation(col0, row0)
    inside = rasterize(
        [(geometry, 1)], out_shape=(row1 - row0, col1 - col0), transform=sub, fill=0,
        dtype="uint8", all_touched=all_touched,
    ).astype(bool)
    return Zone(slice(row0, row1), slice(col0, col1), inside, sub)


# --------------------------------------------------------------------------- computed cubes


def _cube_steps(cube: Cube, regions: Regions, func: str, all_touched: bool) -> list[Step]:
    """Statistics on a computed cube's own grid, one step per time label."""
    geometries = regions.to_crs(cube.crs).geometries
    shape = (cube.height, cube.width)
    zones = [zone(g, cube.transform, shape, all_touched) for g in geometries]
    times: Sequence[datetime | None] = cube.times if cube.times is not None else (None,)
    steps: list[Step] = []
    data = np.ma.getdata(cube.data)
    mask = np.ma.getmaskarray(cube.data)
    for t, label in enumerate(times):
        per_region: list[list[float | int | None]] = []
        for z in zones:
            row: list[float | int | None] = []
            for b in range(len(cube.bands)):
                if z is None:
                    row.append(statistic(np.empty(0), func))
                    continue
                values = data[t, b, z.rows, z.cols]
                keep = z.inside & ~mask[t, b, z.rows, z.cols] & np.isfinite(values)
                row.append(statistic(values[keep].astype(np.float64), func))
            per_region.append(row)
        steps.append((label, per_region))
    return steps


# --------------------------------------------------------------------------- native reads


@dataclass
class _Pixels:
    """One region's pixels read from one item: where they are and which are valid."""

    zone: Zone
    crs: CRS
    values: np.ndarray
    """(bands, rows, cols) float32."""
    readable: np.ndarray
    """(bands, rows, cols): not no-data, not masked (inside the polygon or not)."""
    valid: np.ndarray
    """``readable`` and inside the polygon."""


class _ItemContext:
    """Makes ``as_cube`` read one item on one native window (masks applied as usual)."""

    def __init__(self, ctx: EvalContext, item: Item, window: Window) -> None:
        self._ctx = ctx
        self._item = item
        self._window = window
        self.catalog = ctx.catalog

    @property
    def window(self) -> Window:
        """The item's native window."""
        return self._window

    @property
    def user_files(self) -> FileStore | None:
        """The calling user's files."""
        return self._ctx.user_files

    def load(self, view: CollectionView, bands: Sequence[str] | None) -> Cube:
        """Read through the evaluation context, on this item and window only."""
        return self._ctx.load_native(view, bands, self._item, self._window)

    def load_native(
        self, view: CollectionView, bands: Sequence[str] | None, item: Item, window: Window
    ) -> Cube:
        """Read another item on another native window through the evaluation context."""
        return self._ctx.load_native(view, bands, item, window)


def _native_steps(
    view: CollectionView, regions: Regions, func: str, all_touched: bool, ctx: EvalContext,
    window: Window,
) -> list[Step]:
    """Statistics per date from the native pixels of each item under the regions."""
    collection = view.collection
    assert isinstance(collection, Collection)
    total = _total_bounds(regions)
    items = collection.search(total, regions.crs, view.start, view.end)
    acquisitions = group_by_day(items)
    if window.times is not None:
        wanted = set(window.times)
        acquisitions = [a for a in acquisitions if a.time in wanted]
    if not acquisitions:
        raise NoData(f"No data of collection {collection.id!r} under the regions between "
                     f"{view.start or '...'} and {view.end or '...'}")
    projected: dict[str, np.ndarray] = {}
    steps: list[Step] = []
    for acquisition in acquisitions:
        earlier: list[dict[int, _Pixels]] = []
        per_region: list[list[list[np.ndarray]]] = [[] for _ in range(len(regions))]
        for item in acquisition.items:
            key = item.crs.to_wkt()
            if key not in projected:
                projected[key] = reproject(regions.geometries, regions.crs, item.crs)
            pixels = _read_item(ctx, view, item, projected[key], all_touched)
            for r, px in pixels.items():
                valid = px.valid
                if earlier:
                    valid = valid & ~_covered(px, [e[r] for e in earlier if r in e])
                per_region[r].append(_band_values(px.values, valid))
            earlier.append(pixels)
        steps.append((acquisition.time, [
            [statistic(_concat([v[b] for v in vals]), func) for b in range(len(view.band_names))]
            for vals in per_region
        ]))
    return steps


def _total_bounds(regions: Regions) -> tuple[float, float, float, float]:
    """The bounds of all regions in their CRS."""
    boxes = np.asarray([g.bounds for g in regions.geometries], dtype=np.float64)
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0)


def _band_values(values: np.ndarray, valid: np.ndarray) -> list[np.ndarray]:
    """Per band, the valid values as float64."""
    return [values[b][valid[b]].astype(np.float64) for b in range(values.shape[0])]


def _read_item(
    ctx: EvalContext, view: CollectionView, item: Item, geometries: np.ndarray,
    all_touched: bool,
) -> dict[int, _Pixels]:
    """Read the item's pixels under the regions, one window per group; per region its pixels."""
    band = view.band_names[0]
    asset = item.assets.get(band)
    if asset is None or asset.transform is None or asset.shape is None:
        return {}
    transform, shape = asset.transform, asset.shape
    zones: dict[int, Zone] = {}
    for r, geometry in enumerate(geometries):
        z = zone(geometry, transform, shape, all_touched)
        if z is not None:
            zones[r] = z
    out: dict[int, _Pixels] = {}
    for members in _groups(zones).values():
        row0 = min(zones[r].rows.start for r in members)
        row1 = max(zones[r].rows.stop for r in members)
        col0 = min(zones[r].cols.start for r in members)
        col1 = max(zones[r].cols.stop for r in members)
        left, top = transform * (col0, row0)
        right, bottom = transform * (col1, row1)
        window = Window(item.crs, (min(left, right), min(top, bottom), max(left, right),
                                   max(top, bottom)), col1 - col0, row1 - row0)
        cube = as_cube(view, _ItemContext(ctx, item, window))
        data = np.ma.getdata(cube.data)[0]
        missing = np.ma.getmaskarray(cube.data)[0]
        for r in members:
            z = zones[r]
            rows = slice(z.rows.start - row0, z.rows.stop - row0)
            cols = slice(z.cols.start - col0, z.cols.stop - col0)
            values = data[:, rows, cols]
            readable = ~missing[:, rows, cols] & np.isfinite(values)
            out[r] = _Pixels(z, item.crs, values, readable, readable & z.inside[None])
    return out


def _groups(zones: Mapping[int, Zone]) -> dict[tuple[int, int], list[int]]:
    """Regions grouped by the block of the grid their pixel box's centre falls in."""
    groups: dict[tuple[int, int], list[int]] = {}
    for r, z in zones.items():
        key = ((z.rows.start + z.rows.stop) // 2 // GROUP_BLOCK,
               (z.cols.start + z.cols.stop) // 2 // GROUP_BLOCK)
        groups.setdefault(key, []).append(r)
    return groups


def _covered(px: _Pixels, earlier: Sequence[_Pixels]) -> np.ndarray:
    """(bands, rows, cols): pixels whose centre falls on a valid pixel of an earlier item."""
    covered = np.zeros(px.valid.shape, dtype=bool)
    if not earlier or not px.valid.any():
        return covered
    rows, cols = np.nonzero(px.valid.any(axis=0))
    t = px.zone.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    for other in earlier:
        ox, oy = xs, ys
        if other.crs != px.crs:
            ox, oy = transform_points(ox, oy, px.crs, other.crs)
        inv = ~other.zone.transform
        oc = np.floor(inv.c + ox * inv.a + oy * inv.b).astype(np.int64)
        orow = np.floor(inv.f + ox * inv.d + oy * inv.e).astype(np.int64)
        height, width = other.valid.shape[1:]
        inside = (oc >= 0) & (oc < width) & (orow >= 0) & (orow < height)
        for b in range(px.valid.shape[0]):
            hit = np.zeros(len(rows), dtype=bool)
            hit[inside] = other.readable[b, orow[inside], oc[inside]]
            covered[b, rows, cols] |= hit
    return covered


# --------------------------------------------------------------------------- the table


def _table(regions: Regions, steps: Sequence[Step], bands: Sequence[str], func: str) -> Table:
    """The long table: one row per region and step, regions in source order, then dates."""
    columns: dict[str, list[Any]] = {"source": [], "feature": []}
    renamed = {name: (f"attr_{name}" if name in FIXED_COLUMNS or name in
                      {f"{b}_{func}" for b in bands} else name) for name in regions.attributes}
    for name in regions.attributes:
        columns[renamed[name]] = []
    columns["date"] = []
    value_names = [f"{b}_{func}" for b in bands]
    for name in value_names:
        columns[name] = []
    geometries: list[Any] = []
    for r in range(len(regions)):
        for label, per_region in steps:
            columns["source"].append(regions.sources[r])
            columns["feature"].append(regions.features[r])
            for name, values in regions.attributes.items():
                columns[renamed[name]].append(values[r])
            columns["date"].append(label)
            for name, value in zip(value_names, per_region[r], strict=True):
                columns[name].append(value)
            geometries.append(regions.geometries[r])
    return Table(columns, np.asarray(geometries, dtype=object), regions.crs)
