"""Assemble a batch raster result: windowed writes into a tiled GeoTIFF, then the result.

Chunks arrive in any order and are written straight into a tiled GeoTIFF beside the
result (a hidden temporary name), so the server holds only the chunks in flight and
GDAL's bounded block cache, whatever the size of the output. ``finish`` converts it
to another temporary name, with GDAL's COG driver (overviews, the job's compression)
or its netCDF driver (netCDF-4, deflated, the CF layout of
:mod:`ondemand.formats.netcdf`; copied band by band, row by row), and renames that to
the final name: a partial file is never under the result's name.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.io import DatasetWriter
from rasterio.shutil import copy as rio_copy
from rasterio.windows import Window as PixelWindow

from ..formats import OutputSpec
from ..formats.gtiff import creation_options
from ..formats.netcdf import copy_to_netcdf, set_cf_tags
from ..window import Window
from .chunks import Chunk
from .layout import RasterLayout, layout_for
from .worker import ChunkResult

GDAL_CACHE_BYTES = 256 * 1024**2
"""GDAL block cache while assembling: bounds the server's memory for any output size."""


class RasterAssembler:
    """Writes chunk results of one output window into a temporary tiled GeoTIFF."""

    def __init__(
        self,
        directory: Path,
        window: Window,
        spec: OutputSpec,
        times: tuple[datetime, ...] | None,
    ) -> None:
        self.directory = directory
        self.window = window
        self.spec = spec
        self.times = times
        self.layout: RasterLayout | None = None
        self.partial = directory / ".partial.tif"
        self._dataset: DatasetWriter | None = None
        self._env = rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES, NUM_THREADS="ALL_CPUS")

    def write(self, chunk: Chunk, result: ChunkResult) -> None:
        """Write one chunk's values (a chunk without data stays nodata)."""
        if result.values is None:
            return
        dataset = self._open(result)
        assert self.layout is not None
        values = result.values.astype(self.layout.dtype, copy=False)
        target = PixelWindow(chunk.col_off, chunk.row_off, chunk.width, chunk.height)
        with self._env:
            dataset.write(values, window=target)
            if self.layout.mask and result.mask is not None:
                dataset.write_mask(result.mask, window=target)

    def _open(self, first: ChunkResult) -> DatasetWriter:
        """Create the temporary GeoTIFF from the first chunk with data."""
        if self._dataset is not None:
            return self._dataset
        self.directory.mkdir(parents=True, exist_ok=True)
        self.layout = layout_for(np.dtype(first.dtype), self.spec, first.bands, self.times)
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "width": self.window.width,
            "height": self.window.height,
            "count": self.layout.count,
            "dtype": self.layout.dtype,
            "crs": self.window.crs,
            "transform": self.window.transform,
            "nodata": self.layout.nodata,
            "tiled": True,
            "blockxsize": self.spec.blockxsize,
            "blockysize": self.spec.blockxsize,
            "compress": "ZSTD",
            "zstd_level": 1,
            "bigtiff": "IF_SAFER",
            "sparse_ok": True,
        }
        if self.spec.format == "netCDF":
            profile["interleave"] = "band"  # the netCDF driver copies one band at a time
        with self._env:
            self._dataset = rasterio.open(self.partial, "w", **profile)
        return self._dataset

    def finish(self, final: Path) -> bool:
        """Convert to the result at ``final`` (False, and no file, if no chunk had data)."""
        dataset, layout = self._dataset, self.layout
        if dataset is None or layout is None:
            return False
        # GDAL's netCDF driver writes only to names ending in .nc: keep the suffix
        staging = final.with_name(f".{final.stem}.partial{final.suffix}")
        with self._env:
            if self.spec.format == "netCDF":
                set_cf_tags(dataset, layout.bands, layout.times)
            else:
                for index, description in enumerate(layout.descriptions()):
                    dataset.set_band_description(index + 1, description)
                    dataset.update_tags(index + 1, **layout.tags(index))
            dataset.close()
            self._dataset = None
            if self.spec.format == "netCDF":
                copy_to_netcdf(self.partial, staging)
            else:
                options = creation_options(_cog_spec(self.spec))
                rio_copy(self.partial, staging, driver="COG", NUM_THREADS="ALL_CPUS", **options)
        os.replace(staging, final)
        self.partial.unlink(missing_ok=True)
        return True

    def discard(self) -> None:
        """Close and delete the temporary files."""
        if self._dataset is not None:
            self._dataset.close()
            self._dataset = None
        self.partial.unlink(missing_ok=True)


def _cog_spec(spec: OutputSpec) -> OutputSpec:
    """The job's options as a COG (batch raster results are always cloud-optimized)."""
    return replace(spec, cog=True, tiled=True, blockysize=spec.blockxsize)
