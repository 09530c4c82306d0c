"""Map tiles of a layer: tile window -> the one evaluator -> PNG, JPEG or float32 GeoTIFF.

Every protocol that serves tiles (XYZ, TMS, TileJSON, WMTS) calls :func:`prepare_tile`
(validation, window and cache key, before any read) and :func:`render_prepared`;
:func:`render_tile` does both in one call.
A tile is the layer's compiled graph evaluated on the tile's window (through
``Engine.evaluate``, so low zoom levels read overviews); a tile wholly outside the
layer, or one where the graph finds no data, is empty (transparent PNG, black
JPEG, all-nodata GeoTIFF) and is produced without reading.

Styles of pictures (PNG/JPEG), decided **once per layer** so neighbouring tiles
match: a 1-band result whose values lie within -1..1 (e.g. NDVI) uses colormap
``rdylgn`` over [-1, 1]; another 1-band result is gray over its min..max; 3 bands
are RGB with a common 2nd-98th percentile stretch (uint8: 0..255). The statistics
come from one coarse evaluation of the layer's extent at its default date. A
:class:`TileStyle`'s explicit colormap or ranges replace their default; its bands pick
1 or 3 bands (names or 1-based numbers); by default all bands if there are 1 or 3,
else the first. GeoTIFF tiles keep the real float values and ignore the style.

A time-series layer renders one date per tile (``Layer.select_time``); the draft's
TMS path date picks the latest date on or before it (:func:`time_on_or_before`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from morecantile import TileMatrixSet

from .cache import TileCache, tile_key
from .cube import Cube
from .engine import CACHED, Engine
from .errors import ArgumentInvalid, NoData, OutputFormatUnsupported, OutputOptionInvalid
from .formats import OutputSpec, colormap_names, default_style, encode, render_image
from .formats.options import BandRef
from .formats.render import Range, select_bands
from .layer import Layer, parse_time_value
from .processes.resample import fit_to_window
from .tms import (
    NATIVE,
    TILE_SIZE,
    WEB_MERCATOR,
    WORLD_CRS84,
    intersects,
    layer_bounds_in,
    native_tms,
    native_tms_id,
    tile_matrix_set,
    tile_window,
    tms_crs,
    tms_ids,
    well_known,
    zoom_range,
)
from .window import Bounds, Window

__all__ = [
    "NATIVE",
    "PreparedTile",
    "TILE_SIZE",
    "WEB_MERCATOR",
    "WORLD_CRS84",
    "TileFormat",
    "TileResult",
    "TileStyle",
    "layer_style",
    "native_tms",
    "native_tms_id",
    "prepare_tile",
    "render_prepared",
    "render_tile",
    "tile_style",
    "tile_format",
    "tile_matrix_set",
    "tile_window",
    "time_on_or_before",
    "tms_crs",
    "tms_ids",
    "well_known",
    "zoom_range",
]

TileFormat = Literal["png", "jpeg", "tif"]
MEDIA_TYPES: dict[TileFormat, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tif": "image/tiff; application=geotiff",
}
_FORMATS: dict[str, TileFormat] = {
    "png": "png",
    "image/png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "image/jpeg": "jpeg",
    "tif": "tif",
    "tiff": "tif",
    "image/tiff": "tif",
    "image/tiff; application=geotiff": "tif",
}
STYLE_SAMPLE_SIZE = 256
"""Longest side of the coarse evaluation that decides a layer's default style."""


def tile_format(name: str) -> TileFormat:
    """``png``, ``jpg``/``jpeg`` or ``tif``/``tiff`` (or their media types), case-insensitive."""
    fmt = _FORMATS.get(name.strip().lower())
    if fmt is None:
        raise OutputFormatUnsupported(
            f"Tile format {name!r} is not supported; use png, jpg (jpeg) or tif"
        )
    return fmt


@dataclass(frozen=True)
class TileStyle:
    """Validated picture options of a tile; ``None`` means the layer's default."""

    colormap: str | None = None
    rescale: tuple[Range, ...] | None = None
    bands: tuple[BandRef, ...] | None = None

    def key(self) -> str:
        """A stable text form for cache keys."""
        return f"{self.colormap}|{self.rescale}|{self.bands}"


def tile_style(
    colormap: str | None = None,
    rescale: Sequence[Range] | None = None,
    bands: Sequence[BandRef] | None = None,
) -> TileStyle:
    """Validate picture options: a known colormap, finite ``min < max`` ranges (one, or one
    per band), 1 or 3 bands (names or 1-based numbers). Empty means the layer's default."""
    cmap = colormap.strip().lower() if colormap else None
    if cmap is not None and cmap not in colormap_names():
        raise OutputOptionInvalid(
            f"Colormap {colormap!r} is not a known colormap (e.g. rdylgn, viridis, gray)"
        )
    ranges = tuple(rescale) if rescale else None
    for low, high in ranges or ():
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise OutputOptionInvalid(f"rescale range {low},{high} needs finite min < max")
    refs = tuple(bands) if bands else None
    if refs is not None and len(refs) not in (1, 3):
        raise OutputOptionInvalid(
            f"bands picks {len(refs)} bands; pictures render 1 (colormapped) or 3 (RGB)"
        )
    if cmap is not None and refs is not None and len(refs) == 3:
        raise OutputOptionInvalid("colormap applies to 1 band but bands picks 3; drop one")
    return TileStyle(cmap, ranges, refs)


def time_on_or_before(layer: Layer, text: str) -> str | None:
    """The draft's TMS path date: the layer's latest date on or before ``text``.

    Returns the exact label (ISO datetime) for ``Layer.select_time``; None for a
    layer without time axis (the date is still checked to be an ISO date). A date
    before the first one, or not a date, is ArgumentInvalid.
    """
    wanted = parse_time_value(text.strip())
    if layer.times is None:
        return None
    if isinstance(wanted, datetime):
        earlier = [t for t in layer.times if t <= wanted]
    else:
        earlier = [t for t in layer.times if t.date() <= wanted]
    if not earlier:
        first = layer.times[0].date().isoformat()
        raise ArgumentInvalid(f"Date {text!r} is before the layer's first date {first}")
    return earlier[-1].isoformat()


@dataclass(frozen=True)
class TileResult:
    """An encoded tile and what HTTP answers need of it."""

    content: bytes
    media_type: str
    etag: str
    """Strong ETag (quoted) derived from the cache key."""
    bounds: Bounds
    crs: str
    """The tile's CRS as an OGC URI (for ``Content-Crs``)."""
    cached: bool


@dataclass(frozen=True)
class PreparedTile:
    """A validated tile request: its window, format, style and cache key (no pixels yet)."""

    layer: Layer
    tms: TileMatrixSet
    window: Window
    kind: TileFormat
    style: TileStyle
    key: str

    @property
    def etag(self) -> str:
        """Strong ETag of the tile (quoted cache key)."""
        return f'"{self.key}"'

    @property
    def media_type(self) -> str:
        """Media type of the encoded tile."""
        return MEDIA_TYPES[self.kind]


def prepare_tile(
    layer: Layer,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    fmt: str = "png",
    time: str | None = None,
    style: TileStyle | None = None,
) -> PreparedTile:
    """Validate a tile request and derive its window and key without reading pixels.

    ``style`` (from :func:`tile_style`; None: the layer's default). Raises
    TileOutOfRange, ArgumentInvalid (unknown date) or OutputFormatUnsupported.
    """
    kind = tile_format(fmt)
    style = style or TileStyle()
    window = tile_window(tms, z, x, y, layer.select_time(time))
    return PreparedTile(layer, tms, window, kind, style, tile_key(layer, window, kind, style.key()))


def render_prepared(
    engine: Engine, tile: PreparedTile, cache: TileCache | None = None
) -> TileResult:
    """Encode a prepared tile, from ``cache`` when it holds a verified copy."""
    crs_uri = _crs_uri(tile.tms)
    if cache is not None:
        hit = cache.get(tile.key)
        if hit is not None:
            return TileResult(hit, tile.media_type, tile.etag, tile.window.bounds, crs_uri, True)
    extent = layer_bounds_in(tile.layer, tile.tms)
    content = _encode_tile(engine, tile.layer, tile.window, tile.kind, tile.style, extent)
    if cache is not None:
        cache.set(tile.key, content)
    return TileResult(content, tile.media_type, tile.etag, tile.window.bounds, crs_uri, False)


def render_tile(
    engine: Engine,
    layer: Layer,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    fmt: str = "png",
    time: str | None = None,
    style: TileStyle | None = None,
    *,
    cache: TileCache | None = None,
) -> TileResult:
    """Render tile ``z/x/y`` of ``layer`` in ``tms`` (see the module docstring).

    Blocking raster work: call it from a worker thread. Raises as :func:`prepare_tile`.
    """
    tile = prepare_tile(layer, tms, z, x, y, fmt, time, style)
    return render_prepared(engine, tile, cache)


def _crs_uri(tms: TileMatrixSet) -> str:
    root = tms.crs.root
    return root if isinstance(root, str) else tms_crs(tms).to_string()


def evaluate_tile(engine: Engine, layer: Layer, window: Window) -> Cube | None:
    """The layer's result on ``window``; None where the graph finds no data."""
    try:
        result = fit_to_window(engine.evaluate(layer.compiled, window, policy=CACHED), window)
    except NoData:
        return None
    if not isinstance(result, Cube):
        raise ArgumentInvalid(
            f"The job returns {type(result).__name__}, not a raster; it cannot be tiled"
        )
    return result


def _encode_tile(
    engine: Engine,
    layer: Layer,
    window: Window,
    kind: TileFormat,
    style: TileStyle,
    extent: Bounds,
) -> bytes:
    cube = evaluate_tile(engine, layer, window) if intersects(window.bounds, extent) else None
    if cube is None:
        cube = _empty_cube(layer, window, style, kind)
    indices = _band_indices(cube, style, kind)
    data = cube.data[-1][indices]
    if kind == "tif":
        times = None if cube.times is None else cube.times[-1:]
        names = tuple(cube.bands[i] for i in indices)
        one = Cube(data[np.newaxis], times, names, cube.crs, cube.transform)
        return encode(one, OutputSpec(format="GTiff")).content
    default_cmap, default_ranges = layer_style(engine, layer, tuple(indices))
    cmap = style.colormap if style.colormap is not None else default_cmap
    ranges = list(style.rescale) if style.rescale is not None else default_ranges
    if data.shape[0] == 1 and cmap is None:
        cmap = "gray"
    return render_image(data, kind, cmap, ranges)


def _band_indices(cube: Cube, style: TileStyle, kind: TileFormat) -> list[int]:
    if style.bands is not None:
        return select_bands(cube, style.bands)
    count = len(cube.bands)
    if kind == "tif" or count in (1, 3):
        return list(range(count))
    return [0]


def _empty_cube(layer: Layer, window: Window, style: TileStyle, kind: TileFormat) -> Cube:
    names = layer.bands or ("band",)
    if kind != "tif":
        names = names[:1]
    shape = (1, len(names), window.height, window.width)
    data = np.ma.MaskedArray(np.full(shape, np.nan, np.float32), mask=np.ones(shape, bool))
    times = None if window.times is None else window.times[-1:]
    return Cube(data, times, tuple(names), window.crs, window.transform)


def layer_style(
    engine: Engine, layer: Layer, indices: tuple[int, ...]
) -> tuple[str | None, list[Range]]:
    """The default ``(colormap, rescale)`` of ``layer``'s bands ``indices``, decided once.

    From one coarse evaluation (at most 256 px a side, default date) of the layer's
    extent, with ``formats.default_style``'s rules.
    """
    return layer.derived(("style", indices), lambda: _sample_style(engine, layer, indices))


def _sample_style(
    engine: Engine, layer: Layer, indices: tuple[int, ...]
) -> tuple[str | None, list[Range]]:
    left, bottom, right, top = layer.native_bounds
    scale = max(right - left, top - bottom) / STYLE_SAMPLE_SIZE
    width = max(1, round((right - left) / scale))
    height = max(1, round((top - bottom) / scale))
    window = Window(layer.native_crs, layer.native_bounds, width, height, layer.select_time(None))
    cube = evaluate_tile(engine, layer, window)
    if cube is None:
        shape = (len(indices), 1, 1)
        empty = np.ma.MaskedArray(np.zeros(shape, np.float32), mask=np.ones(shape, bool))
        return default_style(empty)
    data = cube.data[-1][list(indices)]
    if data.dtype.kind == "f":
        data = np.ma.masked_invalid(data, copy=False)
    return default_style(data)
