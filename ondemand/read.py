"""Read collection bands onto a window's grid through rio-tiler.

Only the window's pixels are read: in the asset's own CRS a (possibly fractional)
pixel window is read with ``out_shape`` so GDAL picks the right overview; in any
other CRS rio-tiler warps exactly the window's bounds. Items of the same day are
mosaicked (first valid pixel wins, items in acquisition order). Dates and bands
are read concurrently: GDAL releases the GIL.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds
from rio_tiler import reader as rio_reader

from .catalog import Band, Collection, Item
from .cube import Cube
from .errors import AssetUnreadable, OutOfBounds
from .window import Window

MAX_SOURCE_SPAN = 2**30
"""Widest window, in pixels of a source asset, that one read may span (GDAL counts in int32)."""


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
            if "://" in href:  # remote COG: no directory listing (sidecar files) per open
                with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"):
                    src = rasterio.open(href)
            else:
                src = rasterio.open(href)
        cache[href] = src
        while len(cache) > self._size:
            _, old = cache.popitem(last=False)
            old.close()
        yield src


class RasterReader:
    """Reads bands of collection items onto windows; one per server, shared by all requests."""

    def __init__(self, threads: int = 4, gdal: Mapping[str, str] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="read")
        self._datasets = DatasetPool()
        self._gdal: dict[str, str | int] = {
            k: int(v) if v.isdigit() else v for k, v in (gdal or {}).items()
        }
        """GDAL options of remote reads (``ondemand.gdalenv``); local files read as GDAL
        defaults (sidecar overviews and masks found)."""

    def close(self) -> None:
        """Stop the read threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def read_cube(
        self,
        collection: Collection,
        acquisitions: Sequence[Acquisition],
        bands: Sequence[Band],
        window: Window,
        check: Callable[[], None] | None = None,
    ) -> Cube:
        """Read ``bands`` of every acquisition onto ``window``; scale/offset applied, float32.

        ``check`` runs before each layer is read (a time-out raises from it).
        """
        shape = (len(acquisitions), len(bands), window.height, window.width)
        data = np.zeros(shape, dtype=np.float32)
        mask = np.ones(shape, dtype=bool)

        def fill(job: tuple[int, int]) -> None:
            t, b = job
            if check is not None:
                check()
            self.read_layer(acquisitions[t], bands[b], window, data[t, b], mask[t, b])

        jobs = [(t, b) for t in range(len(acquisitions)) for b in range(len(bands))]
        for _ in self._pool.map(fill, jobs):
            pass
        return Cube(
            data=np.ma.MaskedArray(data, mask=mask),
            times=tuple(a.time for a in acquisitions),
            bands=tuple(b.name for b in bands),
            crs=window.crs,
            transform=window.transform,
        )

    def read_layer(
        self,
        acquisition: Acquisition,
        band: Band,
        window: Window,
        values: np.ndarray,
        missing: np.ndarray,
    ) -> None:
        """Mosaic one band of one acquisition into ``values`` / ``missing`` (first valid wins).

        ``values`` is float32 and ``missing`` all True on entry; both are (height, width).
        """
        for item in acquisition.items:
            asset = item.assets.get(band.name)
            if asset is None:
                continue
            try:
                with rasterio.Env(**self._gdal) if _remote(asset.href) else nullcontext():
                    raw, raw_missing = self._read_asset_checked(asset.href, band, window)
            except (RasterioError, CPLE_BaseError) as exc:
                raise AssetUnreadable(
                    f"Cannot read asset {band.name!r} of item {item.id!r} ({_public(asset.href)}): "
                    f"{_reason(exc, asset.href)}"
                ) from None
            if missing.all():
                values[...] = raw
                missing[...] = raw_missing
            else:
                fill = missing & ~raw_missing
                values[fill] = raw[fill]
                missing &= ~fill
            if not missing.any():
                break

    def _read_asset_checked(self, href: str, band: Band,
                            window: Window) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_read_asset`, tried twice on a GDAL error: an error GDAL left behind in
        this thread (reading another, damaged file) can surface on the next read once;
        a damaged file fails again."""
        try:
            return self._read_asset(href, band, window)
        except CPLE_BaseError:
            return self._read_asset(href, band, window)

    def _read_asset(self, href: str, band: Band, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """One asset's pixels under the window: scaled float32 values and the no-data mask."""
        nodata = band.nodata
        with self._datasets.open(href) as src:
            _check_span(src, window)
            if src.crs == window.crs:
                pixel_window = from_bounds(*window.bounds, transform=src.transform)
                image = rio_reader.read(
                    src,
                    window=pixel_window,
                    width=window.width,
                    height=window.height,
                    indexes=1,
                    nodata=nodata,
                    resampling_method=window.resampling,
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
                    resampling_method=window.resampling,
                    reproject_method=window.resampling,
                )
        array = image.array[0]
        raw = np.ma.getdata(array)
        missing = np.ma.getmaskarray(array)
        if nodata is not None and math.isnan(nodata):
            missing = missing | np.isnan(raw)
        values = raw.astype(np.float32)
        if band.scale != 1.0:
            values *= np.float32(band.scale)
        if band.offset != 0.0:
            values += np.float32(band.offset)
        return values, missing


def _check_span(src: DatasetReader, window: Window) -> None:
    """OutOfBounds when the window spans more source pixels than GDAL can address.

    Such windows (a bounding box of 1e12 m, say) are far larger than any Earth
    extent; GDAL would fail on them with an int32 overflow or a degenerate warp.
    """
    left, bottom, right, top = window.bounds
    if src.crs == window.crs:
        xres, yres = abs(src.transform.a), abs(src.transform.e)
    else:
        try:
            west, south, east, north = transform_bounds(src.crs, window.crs, *src.bounds)
        except Exception:  # no footprint in the window's CRS: let the warp decide
            return
        xres, yres = (east - west) / src.width, (north - south) / src.height
    span = max((right - left) / xres, (top - bottom) / yres) if xres > 0 and yres > 0 else 0.0
    if not math.isfinite(span) or span > MAX_SOURCE_SPAN:
        raise OutOfBounds(
            f"The requested area ({left:g}, {bottom:g}, {right:g}, {top:g}) spans about "
            f"{span:.3g} pixels of the source data, more than {MAX_SOURCE_SPAN:,}; "
            "ask for a smaller area"
        )


def _public(href: str) -> str:
    """An href as messages may show it: a URL without its query string (signatures and
    tokens), a local file by its name (the server's folders stay private)."""
    if _remote(href):
        return href.split("?", 1)[0]
    return os.path.basename(href)


def _reason(exc: BaseException, href: str) -> str:
    """GDAL's message, first line, without signed query strings or the server's folders."""
    while "see previous exception" in str(exc).lower() and (exc.__cause__ or exc.__context__):
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    text = lines[0]
    if not _remote(href):
        text = text.replace(href, _public(href)).replace(os.path.dirname(href) + os.sep, "")
    return " ".join(part.split("?", 1)[0] if "://" in part else part
                    for part in text.split(" "))[:300]


def _remote(href: str) -> bool:
    """Whether an asset is read over the network (a URL or a GDAL virtual network path)."""
    return "://" in href or href.startswith(("/vsicurl", "/vsis3", "/vsigs", "/vsiaz"))
