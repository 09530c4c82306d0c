"""Reproject shapely geometries and coordinate arrays (pyproj transformers built once).

Axis order is always x = east, y = north, whatever the CRS's declared order.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer
from rasterio.crs import CRS

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
