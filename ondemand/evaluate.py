"""The one evaluator: (compiled graph, window) -> result, for every protocol.

A graph is compiled once (parsed, validated, planned); evaluating it on a window
walks its nodes with a context whose ``load`` reads exactly the bands a process
asks for, of the dates the graph (and the window's time selection) keeps, on the
window's grid. Pixels outside the graph's bounding box are masked. Reductions over
time stream in bounded groups of dates (:mod:`ondemand.stream`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from rasterio.crs import CRS
from rasterio.features import geometry_mask
from rasterio.warp import transform_geom

from .arrays import cube_from_bytes, cube_to_bytes
from .catalog import Catalog, Collection, Item
from .cube import Cube
from .dialects import parse_graph
from .errors import NoData
from .graph import Graph, node_hash
from .limits import NO_LIMITS, Limits
from .plan import Load, plan_loads
from .processes import REGISTRY
from .processes.context import CollectionView, as_cube
from .processes.registry import Registry
from .processes.types import ValueType
from .processes.validate import validate_graph
from .read import Acquisition, RasterReader, group_by_day
from .stream import StreamPlan, plan_streams, run_graph
from .userfiles import FileStore
from .window import Bounds, Window

__all__ = [
    "CACHE_MAX_PIXELS",
    "NO_LIMITS",
    "BytesCache",
    "CompiledGraph",
    "EvaluationContext",
    "Limits",
    "Load",
    "compile_graph",
    "evaluate",
    "plan_loads",
]


@dataclass(frozen=True)
class CompiledGraph:
    """A parsed, validated and planned graph, reused for every window."""

    graph: Graph
    loads: tuple[Load, ...]
    registry: Registry
    catalog: Catalog
    result_type: ValueType
    streams: tuple[StreamPlan, ...] = ()
    """The reductions over time that stream (see :mod:`ondemand.stream`)."""

    @property
    def collections(self) -> tuple[Collection, ...]:
        """The collections the graph reads, first use first."""
        seen: dict[str, Collection] = {}
        for load in self.loads:
            collection = load.view.collection
            assert isinstance(collection, Collection)
            seen.setdefault(collection.id, collection)
        return tuple(seen.values())


def compile_graph(
    doc: Any,
    catalog: Catalog,
    *,
    max_nodes: int = 200,
    max_depth: int = 64,
    registry: Registry = REGISTRY,
) -> CompiledGraph:
    """Parse, validate and plan a process graph (either dialect) against ``catalog``."""
    graph = parse_graph(doc, registry, max_nodes=max_nodes, max_depth=max_depth)
    result_type = validate_graph(graph, catalog, registry)
    return CompiledGraph(
        graph=graph,
        loads=plan_loads(graph, catalog, registry),
        registry=registry,
        catalog=catalog,
        result_type=result_type,
        streams=plan_streams(graph, catalog, registry),
    )


class EvaluationContext:
    """The real context: reads views on one window, within limits."""

    def __init__(
        self,
        catalog: Catalog,
        window: Window,
        reader: RasterReader,
        limits: Limits = NO_LIMITS,
        user_files: FileStore | None = None,
        cache: BytesCache | None = None,
    ) -> None:
        self.catalog = catalog
        self._window = window
        self._reader = reader
        self._limits = limits
        self._cache = cache
        self.user_files = user_files
        """The calling user's files (zonal_statistics reads regions from them)."""
        self.pixels_read = 0

    @property
    def window(self) -> Window:
        """The target grid and time selection."""
        return self._window

    def load(self, view: CollectionView, bands: Sequence[str] | None) -> Cube:
        """Read ``bands`` of ``view`` on the window; pixels outside the view's bbox are masked."""
        collection = view.collection
        assert isinstance(collection, Collection)
        names = view.band_names if bands is None else tuple(bands)
        acquisitions = self.acquisitions(view)
        if not acquisitions:
            raise NoData(_no_data_message(view, self._window))
        self.check_dates(view, len(acquisitions))
        self._charge(len(acquisitions) * len(names) * self._window.pixels)
        return self._read(view, names, acquisitions, self._window)

    def load_native(
        self, view: CollectionView, bands: Sequence[str] | None, item: Item, window: Window
    ) -> Cube:
        """Read ``bands`` of the one ``item`` on ``window`` (on its own grid: no resampling).

        Like :meth:`load` (float32, scale/offset applied, nodata masked, pixels outside
        the view's bbox masked), with one time step labelled with the item's datetime.
        """
        collection = view.collection
        assert isinstance(collection, Collection)
        names = view.band_names if bands is None else tuple(bands)
        self._charge(len(names) * window.pixels)
        return self._read(view, names, [Acquisition(item.datetime, (item,))], window)

    def _read(
        self,
        view: CollectionView,
        names: Sequence[str],
        acquisitions: Sequence[Acquisition],
        window: Window,
    ) -> Cube:
        """Read (or take from the cache) bands of acquisitions on a window, bbox-masked."""
        collection = view.collection
        assert isinstance(collection, Collection)
        key = None
        if self._cache is not None and window.pixels <= CACHE_MAX_PIXELS:
            key = read_key(view, names, acquisitions, window)
            cached = _cached_cube(self._cache, key)
            if cached is not None:
                return cached
        self._limits.check_time()
        cube = self._reader.read_cube(
            collection,
            acquisitions,
            [collection.band(n) for n in names],
            window,
            check=self._limits.check_time,
        )
        outside = None if view.bbox is None else bbox_outside_mask(view.bbox, window)
        if outside is not None:
            mask = np.ma.getmaskarray(cube.data) | outside
            cube = cube.with_data(np.ma.MaskedArray(np.ma.getdata(cube.data), mask=mask))
        if key is not None and self._cache is not None:
            self._cache.set(key, cube_to_bytes(cube))
        return cube

    def acquisitions(self, view: CollectionView) -> list[Acquisition]:
        """The dates of ``view`` with items under the window and in its time selection."""
        collection = view.collection
        assert isinstance(collection, Collection)
        items = collection.search(self._window.bounds, self._window.crs, view.start, view.end)
        found = group_by_day(items)
        if self._window.times is not None:
            wanted = set(self._window.times)
            found = [a for a in found if a.time in wanted]
        return found

    def _charge(self, pixels: int) -> None:
        """Count pixels this pass holds; over the budget is PixelLimitExceeded."""
        self.pixels_read += pixels
        self._limits.check_pixels(self.pixels_read)

    def check_dates(self, view: CollectionView, count: int) -> None:
        """PixelLimitExceeded when one load of ``view`` would read ``count`` dates, too many."""
        self._limits.check_dates(count, view.collection.id)

    def open_pass(self, window: Window) -> EvaluationContext:
        """A context like this one on ``window``, counting its own pixels (one streamed group)."""
        return EvaluationContext(
            self.catalog, window, self._reader, self._limits, self.user_files, self._cache
        )


def bbox_outside_mask(bbox: tuple[Bounds, CRS], window: Window) -> np.ndarray | None:
    """Boolean (y, x) mask of window pixels whose centre is outside ``bbox``; None if none are."""
    bounds, crs = bbox
    left, bottom, right, top = bounds
    ring = [(left, bottom), (right, bottom), (right, top), (left, top), (left, bottom)]
    geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
    if crs != window.crs:
        geometry = transform_geom(crs, window.crs, _densify(geometry, 32))
    else:
        wl, wb, wr, wt = window.bounds
        if left <= wl and bottom <= wb and right >= wr and top >= wt:
            return None
    outside = geometry_mask(
        [geometry], out_shape=(window.height, window.width), transform=window.transform
    )
    return outside if outside.any() else None


def _densify(polygon: dict[str, Any], points: int) -> dict[str, Any]:
    """Insert points along each edge so a reprojected rectangle keeps its curved shape."""
    ring = polygon["coordinates"][0]
    dense: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:], strict=True):
        for k in range(points):
            f = k / points
            dense.append((x0 + (x1 - x0) * f, y0 + (y1 - y0) * f))
    dense.append(tuple(ring[-1]))
    return {"type": "Polygon", "coordinates": [dense]}


def _no_data_message(view: CollectionView, window: Window) -> str:
    """Say which collection, dates and area selected nothing."""
    dates = (
        f"{view.start.date() if view.start else '...'} to {view.end.date() if view.end else '...'}"
    )
    times = "" if window.times is None else f" at {', '.join(t.isoformat() for t in window.times)}"
    return (
        f"No data of collection {view.collection.id!r} between {dates}{times} in the requested area"
    )


def evaluate(
    compiled: CompiledGraph,
    window: Window,
    reader: RasterReader,
    *,
    limits: Limits = NO_LIMITS,
    user_files: FileStore | None = None,
    cache: BytesCache | None = None,
) -> Any:
    """Evaluate a compiled graph on ``window``: the one path for tiles, coverages and downloads.

    With a ``cache``, raster results and per-date reads of windows up to
    ``CACHE_MAX_PIXELS`` are kept, keyed by the canonical graph hash (or the read), the
    window and the identity of every item under it: changed graphs or data never hit.
    """
    key = None
    if cache is not None and window.pixels <= CACHE_MAX_PIXELS:
        key = result_key(compiled, window)
        cached = _cached_cube(cache, key)
        if cached is not None:
            return cached
    ctx = EvaluationContext(compiled.catalog, window, reader, limits, user_files, cache)
    result = run_graph(compiled.graph, compiled.streams, ctx, compiled.registry)
    if isinstance(result, CollectionView):
        result = as_cube(result, ctx)
    if key is not None and cache is not None and isinstance(result, Cube):
        cache.set(key, cube_to_bytes(result))
    return result


class BytesCache(Protocol):
    """A checked key-value store of bytes (``ondemand.cache.TileCache``)."""

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""

    def set(self, key: str, content: bytes) -> None:
        """Store bytes under ``key``."""


CACHE_MAX_PIXELS = 1024 * 1024
"""Intermediates of windows up to this size are cached (tiles, coverages, previews)."""


def _cached_cube(cache: BytesCache, key: str) -> Cube | None:
    """A cube from the cache, or None (absent or unreadable: then recomputed)."""
    content = cache.get(key)
    if content is None:
        return None
    try:
        return cube_from_bytes(content)
    except (ValueError, KeyError, OSError):
        return None


def _digest(*parts: str) -> str:
    """A sha256 hex digest of text parts."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _grid_text(window: Window) -> str:
    """The window's grid (not its time selection) as text."""
    size = f"{window.width}x{window.height}"
    return f"{window.crs.to_string()}|{window.bounds!r}|{size}|{window.resampling}"


def read_key(
    view: CollectionView,
    names: Sequence[str],
    acquisitions: Sequence[Acquisition],
    window: Window,
) -> str:
    """Cache key of one read: collection, bands, items (with identity), grid, bbox mask."""
    items = [f"{a.time.isoformat()}:{i.id}@{i.identity}" for a in acquisitions for i in a.items]
    bbox = "" if view.bbox is None else f"{view.bbox[0]!r}|{view.bbox[1].to_string()}"
    return _digest(
        "read-v1", view.collection.id, ",".join(names), _grid_text(window), bbox, *items
    )


def result_key(compiled: CompiledGraph, window: Window) -> str:
    """Cache key of a graph's result on a window: graph hash, window, items under it."""
    parts = ["result-v1", node_hash(compiled.graph, compiled.graph.result), window.key()]
    for load in compiled.loads:
        collection = load.view.collection
        assert isinstance(collection, Collection)
        items = collection.search(window.bounds, window.crs, load.view.start, load.view.end)
        parts.extend(f"{collection.id}/{i.id}@{i.identity}" for i in items)
    return _digest(*parts)
