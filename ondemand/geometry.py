"""Reproject shapely geometries and coordinate arrays (pyproj transformers built once).

Axis order is always x = east, y = north, whatever the CRS's declared order.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import shapely
from pyproj import CRS as PyprojCRS
from pyproj import Transformer
from rasterio.crs import CRS

from .errors import OutOfBounds

WGS84 = CRS.from_epsg(4326)


def reproject(geometries: np.ndarray, src: CRS, dst: CRS) -> np.ndarray:
    """Reproject shapely geometries' vertices from ``src`` to ``dst`` (x, y = east, north)."""
    transformer = _transformer(src.to_wkt(), dst.to_wkt())
    return np.asarray(
        shapely.transform(
            geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    )


def transform_points(
    xs: np.ndarray, ys: np.ndarray, src: CRS, dst: CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays from ``src`` to ``dst``."""
    x, y = _transformer(src.to_wkt(), dst.to_wkt()).transform(xs, ys)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


_TRANSFORMERS: dict[tuple[str, str], Transformer] = {}


def _transformer(src: str, dst: str) -> Transformer:
    """A pyproj transformer built once per CRS pair (always x = east, y = north)."""
    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def check_in_crs_area(geometries: np.ndarray, crs: CRS, name: str) -> None:
    """OutOfBounds unless every vertex is finite and lies in ``crs``'s area of use.

    Geographic coordinates must be longitudes within ±360° and latitudes within ±90°;
    projected ones within the CRS's area of use (projected to it) widened by its own
    size on every side, which accepts polygons a little past a UTM zone's edge.
    """
    coords = shapely.get_coordinates(geometries)
    if not np.isfinite(coords).all():
        raise OutOfBounds(f"{name}: coordinates must be finite numbers")
    if len(coords) == 0:
        return
    low, high = coords.min(axis=0), coords.max(axis=0)
    if crs.is_geographic:
        west, south, east, north = -360.0, -90.0, 360.0, 90.0
    else:
        west, south, east, north = _projected_area(crs.to_wkt())
    if low[0] < west or low[1] < south or high[0] > east or high[1] > north:
        raise OutOfBounds(
            f"{name}: coordinates ({low[0]:.6g}, {low[1]:.6g}) to ({high[0]:.6g}, "
            f"{high[1]:.6g}) lie outside the area of {crs.to_string()} ({west:.6g}, "
            f"{south:.6g}) to ({east:.6g}, {north:.6g}); check the CRS and axis order"
        )


@functools.lru_cache(maxsize=64)
def _projected_area(wkt: str) -> tuple[float, float, float, float]:
    """The area of use of a projected CRS in its own coordinates, widened by its size."""
    area = PyprojCRS.from_wkt(wkt).area_of_use
    bounds = (-180.0, -90.0, 180.0, 90.0) if area is None else area.bounds
    west, south, east, north = _transformer(WGS84.to_wkt(), wkt).transform_bounds(*bounds)
    if not all(np.isfinite((west, south, east, north))):
        return (-math.inf, -math.inf, math.inf, math.inf)
    width, height = east - west, north - south
    return (west - width, south - height, east + width, north + height)
