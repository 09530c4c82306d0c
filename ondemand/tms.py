"""Tile matrix sets: the two well-known ones and a native grid per layer, built once.

* ``WebMercatorQuad`` (well-known scale set GoogleMapsCompatible, EPSG:3857): the
  grid of web maps (XYZ, TileJSON).
* ``WorldCRS84Quad`` (OGC:CRS84, longitude/latitude): two tiles at level 0.
* the **native** grid of a layer (``native_tms``): the layer's CRS, origin at the
  top-left corner of its extent (a corner of its native pixel grid), 256x256 tiles,
  level ``maxzoom`` at the native resolution and each coarser level twice the pixel
  size, down to level 0 that holds the whole extent in about one tile. Its id names
  the CRS and resolution, e.g. ``UTM32N-20m``; ``native`` is an alias.

TMS objects and their rasterio CRSs are built once and cached; nothing is copied
per tile. Rows count from the top (XYZ order) in every set.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

import morecantile
from morecantile import Tile, TileMatrixSet
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from .errors import ArgumentInvalid, TileOutOfRange
from .layer import Layer
from .window import Bounds, Window

TILE_SIZE = 256
WEB_MERCATOR = "WebMercatorQuad"
WORLD_CRS84 = "WorldCRS84Quad"
NATIVE = "native"
SCREEN_PIXEL_SIZE = 0.00028
"""Metres per screen pixel of OGC scale denominators."""
_EPS = 1e-6

_ALIASES = {
    "webmercatorquad": WEB_MERCATOR,
    "webmercator": WEB_MERCATOR,
    "googlemapscompatible": WEB_MERCATOR,
    "epsg:3857": WEB_MERCATOR,
    "3857": WEB_MERCATOR,
    "worldcrs84quad": WORLD_CRS84,
    "wgs84": WORLD_CRS84,
    "crs84": WORLD_CRS84,
    "ogc:crs84": WORLD_CRS84,
}
"""Lower-case names clients use for the well-known sets."""


@cache
def well_known(tms_id: str) -> TileMatrixSet:
    """A well-known tile matrix set of morecantile's registry, built once."""
    return morecantile.tms.get(tms_id)


def native_tms(layer: Layer) -> TileMatrixSet:
    """The layer's native tile matrix set (see the module docstring)."""
    return _native_tms(layer.native_crs.to_wkt(), layer.native_bounds, layer.native_resolution)


def native_tms_id(crs: CRS, resolution: float) -> str:
    """``UTM32N-20m`` for UTM zones, ``EPSG3035-100m`` otherwise (dots become ``_``)."""
    res = f"{resolution:g}".replace(".", "_")
    epsg = crs.to_epsg()
    unit = "m" if crs.linear_units in ("metre", "meter") else ""
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        hemisphere = "N" if epsg < 32700 else "S"
        return f"UTM{epsg % 100}{hemisphere}-{res}{unit}"
    name = f"EPSG{epsg}" if epsg is not None else "CRS"
    return f"{name}-{res}{unit}"


@lru_cache(maxsize=512)
def _native_tms(wkt: str, bounds: Bounds, resolution: float) -> TileMatrixSet:
    crs = CRS.from_wkt(wkt)
    left, bottom, right, top = bounds
    span = max(right - left, top - bottom)
    levels = max(1, math.ceil(math.log2(span / (TILE_SIZE * resolution)) - _EPS) + 1)
    epsg = crs.to_epsg()
    crs_ref: object = (
        f"http://www.opengis.net/def/crs/EPSG/0/{epsg}" if epsg is not None else {"wkt": wkt}
    )
    metres = 1.0 if crs.linear_units in ("metre", "meter") else crs.linear_units_factor[1]
    matrices = []
    for z in range(levels):
        cell = resolution * 2 ** (levels - 1 - z)
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell * metres / SCREEN_PIXEL_SIZE,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [left, top],
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": max(1, math.ceil((right - left) / (TILE_SIZE * cell) - _EPS)),
                "matrixHeight": max(1, math.ceil((top - bottom) / (TILE_SIZE * cell) - _EPS)),
            }
        )
    return TileMatrixSet.model_validate(
        {
            "id": native_tms_id(crs, resolution),
            "title": f"Native grid ({crs.to_string()}, {resolution:g} units per pixel)",
            "crs": crs_ref,
            "tileMatrices": matrices,
        }
    )


def tms_ids(layer: Layer) -> list[str]:
    """The ids of the tile matrix sets a layer is served in."""
    return [WEB_MERCATOR, WORLD_CRS84, native_tms(layer).id or NATIVE]


def tile_matrix_set(layer: Layer, tms_id: str) -> TileMatrixSet:
    """Resolve a tile matrix set id or alias (case-insensitive) for ``layer``.

    Unknown ids raise ArgumentInvalid naming the valid ones.
    """
    key = tms_id.strip().lower()
    native = native_tms(layer)
    if key == NATIVE or key == (native.id or "").lower():
        return native
    if key in _ALIASES:
        return well_known(_ALIASES[key])
    valid = ", ".join(tms_ids(layer) + [NATIVE])
    raise ArgumentInvalid(
        f"Unknown tile matrix set {tms_id!r}; valid: {valid} "
        "(aliases: webmercator, GoogleMapsCompatible, EPSG:3857, WGS84, CRS84)"
    )


_RIO_CRS: dict[str, CRS] = {}


def tms_crs(tms: TileMatrixSet) -> CRS:
    """The rasterio CRS of a tile matrix set (cached: converting costs ~0.2 ms)."""
    key = repr(tms.crs.root)
    crs = _RIO_CRS.get(key)
    if crs is None:
        crs = tms.rasterio_crs
        assert isinstance(crs, CRS)
        _RIO_CRS[key] = crs
    return crs


def tile_window(
    tms: TileMatrixSet, z: int, x: int, y: int, times: tuple[object, ...] | None = None
) -> Window:
    """The exact window of tile ``z/x/y`` (row from the top) with a time selection.

    A zoom level, column or row outside the set raises TileOutOfRange.
    """
    if not tms.minzoom <= z <= tms.maxzoom:
        raise TileOutOfRange(
            f"Zoom level {z} is outside tile matrix set {tms.id} "
            f"(levels {tms.minzoom}..{tms.maxzoom})"
        )
    matrix = tms.matrix(z)
    if not 0 <= x < matrix.matrixWidth:
        raise TileOutOfRange(
            f"Tile column {x} is outside 0..{matrix.matrixWidth - 1} at level {z} of {tms.id}"
        )
    if not 0 <= y < matrix.matrixHeight:
        raise TileOutOfRange(
            f"Tile row {y} is outside 0..{matrix.matrixHeight - 1} at level {z} of {tms.id}"
        )
    b = tms.xy_bounds(Tile(x, y, z))
    return Window(
        tms_crs(tms),
        (b.left, b.bottom, b.right, b.top),
        matrix.tileWidth,
        matrix.tileHeight,
        times,  # type: ignore[arg-type]
    )


def layer_bounds_in(layer: Layer, tms: TileMatrixSet) -> Bounds:
    """The layer's extent in the set's CRS (cached per layer grid and CRS)."""
    crs = tms_crs(tms)
    return _bounds_in(layer.native_crs.to_wkt(), layer.native_bounds, crs.to_wkt())


@lru_cache(maxsize=1024)
def _bounds_in(native_wkt: str, bounds: Bounds, target_wkt: str) -> Bounds:
    if native_wkt == target_wkt:
        return bounds
    out = transform_bounds(
        CRS.from_wkt(native_wkt), CRS.from_wkt(target_wkt), *bounds, densify_pts=21
    )
    return (float(out[0]), float(out[1]), float(out[2]), float(out[3]))


def intersects(a: Bounds, b: Bounds) -> bool:
    """Whether two ``(left, bottom, right, top)`` boxes share area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def zoom_range(layer: Layer, tms: TileMatrixSet) -> tuple[int, int]:
    """``(minzoom, maxzoom)`` of ``layer`` in ``tms``.

    ``maxzoom`` is the coarsest level at least as fine as the native resolution;
    ``minzoom`` the finest level whose single tile spans the whole extent.
    """
    left, bottom, right, top = layer_bounds_in(layer, tms)
    n_left, n_bottom, n_right, n_top = layer.native_bounds
    res = layer.native_resolution
    res_tms = min(
        (right - left) * res / (n_right - n_left), (top - bottom) * res / (n_top - n_bottom)
    )
    span = max(right - left, top - bottom)
    levels = range(tms.minzoom, tms.maxzoom + 1)
    maxzoom = next((z for z in levels if tms.matrix(z).cellSize <= res_tms * (1 + _EPS)), None)
    maxzoom = tms.maxzoom if maxzoom is None else maxzoom
    fits = [z for z in levels if z <= maxzoom and tms.matrix(z).cellSize * TILE_SIZE >= span]
    minzoom = fits[-1] if fits else tms.minzoom
    return minzoom, maxzoom
