"""NDVI of Landsat scenes on any output grid, from the source COGs with rasterio and numpy
only: the independent side of comparisons with the engine's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import rasterio


def band_on_grid(href: str, shape: tuple[int, int], transform: Any) -> np.ndarray:
    """The source pixel under each output pixel centre (nearest neighbour), 0 outside."""
    rows, cols = np.meshgrid(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5,
                             indexing="ij")
    xs, ys = transform * (cols, rows)
    with rasterio.open(href) as src:
        col, row = ~src.transform * (xs, ys)
        col, row = np.floor(col).astype(int), np.floor(row).astype(int)
        inside = (col >= 0) & (col < src.width) & (row >= 0) & (row < src.height)
        out = np.zeros(shape)
        out[inside] = src.read(1)[row[inside], col[inside]]
    return out


def ndvi_on_grid(items: Sequence[Any], shape: tuple[int, int], transform: Any
                 ) -> np.ma.MaskedArray:
    """``(t, y, x)`` NDVI of catalog items (B4 red, B5 nir), masked where either is fill (0)."""
    layers = []
    for item in items:
        red = band_on_grid(item.assets["B4"].href, shape, transform)
        nir = band_on_grid(item.assets["B5"].href, shape, transform)
        with np.errstate(all="ignore"):
            ndvi = (nir - red) / (nir + red)
        layers.append(np.ma.masked_where((red == 0) | (nir == 0) | (nir + red == 0), ndvi))
    return np.ma.stack(layers)
