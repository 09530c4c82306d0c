"""Read collection bands onto a window's grid through rio-tiler.

Only the window's pixels are read: in the asset's own CRS a (possibly fractional)
pixel window is read with ``out_shape`` so GDAL picks the right overview; in any
other CRS rio-tiler warps exactly the window's bounds. Items of the same day are
mosaicked (first valid pixel wins, items in acquisition order). Dates and bands
are read concurrently: GDAL releases the GIL.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import rasterio
from rasterio.io import DatasetReader
from rasterio.windows import from_bounds
from rio_tiler import reader as rio_reader

from .catalog import Band, Collection, Item
from .cube import Cube
from .window import Window

Resampling = Literal["nearest", "bilinear", "cubic", "average", "mode"]
DEFAULT_RESAMPLING: Resampling = "nearest"
"""Bands meet on the window's grid by nearest neighbour: at native resolution no pixel moves."""


@dataclass(frozen=True)
class Acquisition:
    """The items of one collection taken on one day: one step of the time axis."""

    time: datetime
    items: tuple[Item, ...]


def group_by_day(items: Sequence[Item]) -> list[Acquisition]:
    """Group items by UTC day; the step is labelled with its first item's datetime."""
    groups: dict[object, list[Item]] = {}
    for item in sorted(items, key=lambda i: (i.datetime, i.id)):
        groups.setdefault(item.datetime.date(), []).append(item)
    return [Acquisition(time=g[0].datetime, items=tuple(g)) for g in groups.values()]


class DatasetPool:
    """Open rasterio datasets kept per thread and reused across reads (a small LRU)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._local = threading.local()

    @contextmanager
    def open(self, href: str) -> Iterator[DatasetReader]:
        """Yield an open dataset for ``href``, opening it at most once per thread."""
        cache: OrderedDict[str, DatasetReader] = (
            getattr(self._local, "cache", None) or OrderedDict()
        )
        self._local.cache = cache
        src = cache.pop(href, None)
        if src is None or src.closed:
            src = rasterio.open(href)
        cache[href] = src
        while len(cache) > self._size:
            _, old = cache.popitem(last=False)
            old.close()
        yield src


class RasterReader:
    """Reads bands of collection items onto windows; one per server, shared by all requests."""

    def __init__(self, threads: int = 4, resampling: Resampling = DEFAULT_RESAMPLING) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="read")
        self._datasets = DatasetPool()
        self.resampling = resampling

    def close(self) -> None:
        """Stop the read threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def read_cube(
        self,
        collection: Collection,
        acquisitions: Sequence[Acquisition],
        bands: Sequence[Band],
        window: Window,
    ) -> Cube:
        """Read ``bands`` of every acquisition onto ``window``; scale/offset applied, float32."""
        jobs = [(a, b) for a in acquisitions for b in bands]
        layers = list(self._pool.map(lambda job: self.read_layer(job[0], job[1], window), jobs))
        shape = (len(acquisitions), len(bands), window.height, window.width)
        data = np.empty(shape, dtype=np.float32)
        mask = np.empty(shape, dtype=bool)
        for index, layer in enumerate(layers):
            t, b = divmod(index, len(bands))
            data[t, b] = layer.data
            mask[t, b] = layer.mask
        return Cube(
            data=np.ma.MaskedArray(data, mask=mask),
            times=tuple(a.time for a in acquisitions),
            bands=tuple(b.name for b in bands),
            crs=window.crs,
            transform=window.transform,
        )

    def read_layer(self, acquisition: Acquisition, band: Band, window: Window) -> np.ma.MaskedArray:
        """Mosaic one band of one acquisition onto the window (first valid pixel wins)."""
        values = np.zeros((window.height, window.width), np.float32)
        missing = np.ones((window.height, window.width), bool)
        for item in acquisition.items:
            asset = item.assets.get(band.name)
            if asset is None:
                continue
            raw = self._read_asset(asset.href, band, window)
            fill = missing & ~np.ma.getmaskarray(raw)
            values[fill] = np.ma.getdata(raw)[fill]
            missing &= ~fill
            if not missing.any():
                break
        return np.ma.MaskedArray(values, mask=missing)

    def _read_asset(self, href: str, band: Band, window: Window) -> np.ma.MaskedArray:
        """Read one asset's pixels under the window as scaled float32 with a full mask."""
        nodata = band.nodata
        with self._datasets.open(href) as src:
            if src.crs == window.crs:
                pixel_window = from_bounds(*window.bounds, transform=src.transform)
                image = rio_reader.read(
                    src,
                    window=pixel_window,
                    width=window.width,
                    height=window.height,
                    indexes=1,
                    nodata=nodata,
                    resampling_method=self.resampling,
                )
            else:
                image = rio_reader.part(
                    src,
                    window.bounds,
                    width=window.width,
                    height=window.height,
                    dst_crs=window.crs,
                    bounds_crs=window.crs,
                    indexes=1,
                    nodata=nodata,
                    resampling_method=self.resampling,
                    reproject_method=self.resampling,
                )
        array = image.array[0]
        values = np.ma.getdata(array)
        mask = np.ma.getmaskarray(array).copy()
        if nodata is not None and math.isnan(nodata):
            mask |= np.isnan(values)
        out = values.astype(np.float32)
        if band.scale != 1.0 or band.offset != 0.0:
            out = out * np.float32(band.scale) + np.float32(band.offset)
        return np.ma.MaskedArray(out, mask=mask)
