"""Default windows: a graph's bounding box on its collection's native pixel grid."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import cast

from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import calculate_default_transform, transform_bounds

from .catalog import Collection, Item
from .errors import ArgumentInvalid, OutOfBounds
from .evaluate import CompiledGraph
from .window import Bounds, Resampling, Window, parse_crs

SNAP_EPSILON = 1e-6
"""Fraction of a pixel treated as float noise when snapping bounds to a grid."""


def native_origin(collection: Collection) -> tuple[float, float]:
    """The top-left corner of the collection's finest pixel grid (from its first item)."""
    for item in collection.items:
        for asset in item.assets.values():
            if asset.transform is not None and math.isclose(
                abs(asset.transform.a), collection.resolution, rel_tol=1e-9
            ):
                return asset.transform.c, asset.transform.f
    return 0.0, 0.0


def snap_outward(bounds: Bounds, origin: tuple[float, float], res: tuple[float, float]) -> Bounds:
    """Grow ``bounds`` to whole pixels of the grid through ``origin`` with pixel size ``res``."""
    (ox, oy), (rx, ry) = origin, res
    left = ox + math.floor((bounds[0] - ox) / rx + SNAP_EPSILON) * rx
    right = ox + math.ceil((bounds[2] - ox) / rx - SNAP_EPSILON) * rx
    top = oy - math.floor((oy - bounds[3]) / ry + SNAP_EPSILON) * ry
    bottom = oy - math.ceil((oy - bounds[1]) / ry - SNAP_EPSILON) * ry
    return left, bottom, right, top


def _grid_window(
    crs: CRS, bounds: Bounds, origin: tuple[float, float], res: tuple[float, float]
) -> Window:
    """The window of whole pixels of the grid (``origin``, ``res``) covering ``bounds``."""
    snapped = snap_outward(bounds, origin, res)
    return Window(
        crs,
        snapped,
        max(1, round((snapped[2] - snapped[0]) / res[0])),
        max(1, round((snapped[3] - snapped[1]) / res[1])),
    )


def collection_bounds(collection: Collection) -> tuple[Bounds, CRS]:
    """The collection's extent: its assets' grids in the native CRS, else its WGS84 bbox."""
    parts: list[Bounds] = []
    for item in collection.items if collection.complete else ():
        if item.crs != collection.crs:
            continue
        for asset in item.assets.values():
            if asset.transform is None or asset.shape is None:
                continue
            rows, cols = asset.shape
            x0, y0 = asset.transform * (0, 0)
            x1, y1 = asset.transform * (cols, rows)
            parts.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    if not parts:
        return collection.bbox, CRS.from_epsg(4326)
    union = (
        min(p[0] for p in parts),
        min(p[1] for p in parts),
        max(p[2] for p in parts),
        max(p[3] for p in parts),
    )
    return union, collection.crs


def graph_bounds(compiled: CompiledGraph, crs: CRS) -> Bounds:
    """Union of the bounding boxes the graph reads, in ``crs`` (collection extent if none)."""
    parts: list[Bounds] = []
    for load in compiled.loads:
        if load.view.bbox is not None:
            bounds, bounds_crs = load.view.bbox
        else:
            collection = load.view.collection
            assert isinstance(collection, Collection)
            bounds, bounds_crs = collection_bounds(collection)
        if bounds_crs != crs:
            bounds = transform_bounds(bounds_crs, crs, *bounds, densify_pts=21)
        parts.append(tuple(bounds))  # type: ignore[arg-type]
    if not parts:
        raise OutOfBounds("The process graph reads no collection, so it has no extent")
    return (
        min(p[0] for p in parts),
        min(p[1] for p in parts),
        max(p[2] for p in parts),
        max(p[3] for p in parts),
    )


def graph_items(compiled: CompiledGraph) -> list[tuple[Collection, list[Item]]]:
    """Per read of the graph, its collection and the items it can touch over the whole extent."""
    out = []
    for load in compiled.loads:
        collection = load.view.collection
        assert isinstance(collection, Collection)
        bounds = graph_bounds(compiled, collection.crs)
        out.append(
            (collection, collection.search(bounds, collection.crs, load.view.start, load.view.end))
        )
    return out


def default_window(
    compiled: CompiledGraph,
    *,
    crs: str | None = None,
    resolution: tuple[float, float] | None = None,
    width: int | None = None,
    height: int | None = None,
    resampling: str | None = None,
) -> Window:
    """The graph's bbox on the native grid of its first collection, or as the options ask.

    See :func:`_default_grid`; ``resampling`` (default nearest) is how source pixels
    meet the grid when it is not theirs.
    """
    window = _default_grid(compiled, crs=crs, resolution=resolution, width=width, height=height)
    if resampling is None:
        return window
    return replace(window, resampling=cast(Resampling, resampling))


def _default_grid(
    compiled: CompiledGraph,
    *,
    crs: str | None,
    resolution: tuple[float, float] | None,
    width: int | None,
    height: int | None,
) -> Window:
    """The graph's bbox on the native grid of its first collection, or as the options ask.

    In the native CRS at native resolution the window is snapped outward to whole source
    pixels, so no pixel moves. ``width``/``height`` give the exact size over the bbox
    (one of them keeps the aspect ratio); ``resolution`` sets the pixel size; ``crs``
    reprojects (pixel size then estimated from the native grid unless given).
    """
    collections = compiled.collections
    if not collections:
        raise OutOfBounds("The process graph reads no collection, so it has no extent")
    native = collections[0]
    target = parse_crs(crs) if crs else native.crs
    bounds = graph_bounds(compiled, target)
    if width or height:
        return _sized_window(target, bounds, width, height)
    if resolution is not None:
        return _grid_window(target, bounds, (bounds[0], bounds[3]), resolution)
    if target == native.crs:
        res = native.resolution
        return _grid_window(target, bounds, native_origin(native), (res, res))
    res = _estimated_resolution(native, target, bounds)
    return _grid_window(target, bounds, (bounds[0], bounds[3]), (res, res))


def _sized_window(crs: CRS, bounds: Bounds, width: int | None, height: int | None) -> Window:
    """A window of an exact size over ``bounds``; a missing side keeps the aspect ratio."""
    span_x, span_y = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if width is None:
        assert height is not None
        width = max(1, round(height * span_x / span_y))
    if height is None:
        height = max(1, round(width * span_y / span_x))
    if width < 1 or height < 1:
        raise ArgumentInvalid(f"Output width and height must be positive, got {width}x{height}")
    return Window(crs, bounds, width, height)


def _estimated_resolution(native: Collection, target: CRS, bounds: Bounds) -> float:
    """Pixel size in ``target`` that keeps about the native number of pixels."""
    native_bounds = transform_bounds(target, native.crs, *bounds, densify_pts=21)
    cols = max(1, round((native_bounds[2] - native_bounds[0]) / native.resolution))
    rows = max(1, round((native_bounds[3] - native_bounds[1]) / native.resolution))
    transform, _, _ = calculate_default_transform(native.crs, target, cols, rows, *native_bounds)
    assert isinstance(transform, Affine)
    return float(abs(transform.a))
