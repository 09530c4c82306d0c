"""The value of one pixel of a layer at every date: the window of a click on a map.

A point (longitude, latitude in WGS84) names the pixel of the layer's native grid
that holds it; that pixel is a one-pixel :class:`~ondemand.window.Window` with no
time selection, so one evaluation through ``Engine.evaluate`` returns the pixel's
value at every date of a time series (or its one value when time is reduced away).
Values are the result's own numbers, exactly as a download at native resolution
holds them; masked pixels are ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from rasterio.warp import transform as transform_points

from .cube import Cube
from .engine import CACHED, Engine
from .errors import ArgumentInvalid, NoData, OutOfBounds
from .layer import WGS84, Layer
from .processes.resample import fit_to_window
from .window import Bounds, Window


@dataclass(frozen=True)
class PixelSeries:
    """One native pixel's values: ``values[i][b]`` is band ``b`` at ``times[i]``."""

    lon: float
    lat: float
    crs: str
    """The native CRS (``EPSG:32632``) of ``x``, ``y`` and ``pixel_bounds``."""
    x: float
    y: float
    column: int
    row: int
    """Column and row of the pixel in the layer's native extent (from its top-left)."""
    pixel_bounds: Bounds
    bands: tuple[str, ...]
    times: tuple[datetime, ...] | None
    """The layer's dates, or None when the result has no time axis (one entry of values)."""
    values: tuple[tuple[float | None, ...], ...]


def pixel_window(layer: Layer, lon: float, lat: float) -> tuple[Window, float, float, int, int]:
    """The one-pixel window of the layer's native grid holding ``(lon, lat)``.

    Returns the window, the point in the native CRS and the pixel's column and row.
    A point outside the layer's extent is OutOfBounds; a non-finite or impossible
    coordinate is ArgumentInvalid.
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ArgumentInvalid(f"Point ({lon}, {lat}) is not a longitude, latitude in WGS84")
    xs, ys = transform_points(WGS84, layer.native_crs, [lon], [lat])
    x, y = float(xs[0]), float(ys[0])
    left, bottom, right, top = layer.native_bounds
    res = layer.native_resolution
    columns = round((right - left) / res)
    rows = round((top - bottom) / res)
    column = math.floor((x - left) / res)
    row = math.floor((top - y) / res)
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= column < columns and 0 <= row < rows):
        raise OutOfBounds(
            f"Point ({lon}, {lat}) is outside the layer's extent "
            f"{tuple(round(v, 6) for v in layer.bounds_wgs84)} (WGS84 west, south, east, north)"
        )
    bounds = (
        left + column * res,
        top - (row + 1) * res,
        left + (column + 1) * res,
        top - row * res,
    )
    return Window(layer.native_crs, bounds, 1, 1), x, y, column, row


def pixel_series(engine: Engine, layer: Layer, lon: float, lat: float) -> PixelSeries:
    """Evaluate the layer on the pixel holding ``(lon, lat)`` for all its dates.

    Blocking raster work: call it from a worker thread. Dates where the graph finds
    no data at the pixel are ``None``, as are masked values.
    """
    window, x, y, column, row = pixel_window(layer, lon, lat)
    bands = layer.bands or ("band",)
    try:
        result = fit_to_window(engine.evaluate(layer.compiled, window, policy=CACHED), window)
    except NoData:
        result = None
    if result is not None and not isinstance(result, Cube):
        raise ArgumentInvalid(
            f"The job returns {type(result).__name__}, not a raster; it has no pixel values"
        )
    if result is not None:
        bands = result.bands
    empty = tuple(None for _ in bands)
    by_time: dict[datetime | None, tuple[float | None, ...]] = {}
    if result is not None:
        labels: tuple[datetime | None, ...] = result.times or (None,)
        for index, label in enumerate(labels):
            by_time[label] = _pixel_values(result.data[index, :, 0, 0])
    if layer.times is None:
        values: tuple[tuple[float | None, ...], ...] = (by_time.get(None, empty),)
        if result is not None and result.times is not None:
            values = (by_time.get(result.times[-1], empty),)
    else:
        values = tuple(by_time.get(t, empty) for t in layer.times)
    return PixelSeries(
        lon=lon,
        lat=lat,
        crs=layer.native_crs.to_string(),
        x=x,
        y=y,
        column=column,
        row=row,
        pixel_bounds=window.bounds,
        bands=tuple(bands),
        times=layer.times,
        values=values,
    )


def _pixel_values(pixel: np.ma.MaskedArray) -> tuple[float | None, ...]:
    """The band values of one pixel as Python numbers, None where masked or NaN."""
    data = np.ma.getdata(pixel)
    mask = np.ma.getmaskarray(pixel)
    out: list[float | None] = []
    for value, masked in zip(data.tolist(), mask.tolist(), strict=True):
        number = float(value)
        out.append(None if masked or not math.isfinite(number) else number)
    return tuple(out)
