"""The file layout of a batch raster result, and chunk cubes turned into its pixel values.

The layout follows :mod:`ondemand.formats.gtiff` (one band per (date, band), date-major;
descriptions and tags alike) with one difference: a chunk cannot know the values of the
other chunks, so integer nodata is always the dtype's extreme value (minimum for signed,
maximum for unsigned types) instead of a value searched in the data. A valid pixel equal
to it fails the job with a message saying so. With ``compress=JPEG`` (lossy) an internal
mask band is written instead of a nodata value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import OutputOptionInvalid
from ..formats import OutputSpec, parse_output
from ..formats.checks import file_dtype
from ..formats.gtiff import descriptions_of


@dataclass(frozen=True)
class RasterLayout:
    """Dtype, nodata, mask and band labels of a result file."""

    dtype: str
    nodata: float | int | None
    mask: bool
    bands: tuple[str, ...]
    times: tuple[datetime, ...] | None

    @property
    def count(self) -> int:
        """Bands of the file: one per (date, band)."""
        return (1 if self.times is None else len(self.times)) * len(self.bands)

    def descriptions(self) -> list[str]:
        """Band descriptions, as :func:`ondemand.formats.gtiff.band_descriptions` writes them."""
        return descriptions_of(self.bands, self.times)

    def tags(self, index: int) -> dict[str, str]:
        """Tags of file band ``index`` (0-based): its band name and, with time, its datetime."""
        n_b = len(self.bands)
        tags = {"band": self.bands[index % n_b]}
        if self.times is not None:
            tags["datetime"] = self.times[index // n_b].isoformat()
        return tags


def batch_spec(output: Mapping[str, Any] | None) -> OutputSpec:
    """The output options of a batch raster result: a COG, or a netCDF-4 file.

    A GeoTIFF keeps the job's options (compression, predictor, block size, grid) and is
    always cloud-optimized; a netCDF file takes only grid options (it is always deflated
    netCDF-4). Formats that encode a whole picture at once (PNG, JPEG, JSON) and options
    the COG driver decides itself are refused with what to use instead.
    """
    spec = parse_output(output)
    if spec.format == "netCDF":
        return spec
    if spec.format != "GTiff":
        raise OutputOptionInvalid(
            f"Batch results are Cloud Optimized GeoTIFFs or netCDF files, not {spec.format}: "
            'queue the batch run with {"output": {"format": "GTiff"}} (any GTiff options) or '
            '{"output": {"format": "netCDF"}}, and render pictures from the COG or through '
            "the job's tile services"
        )
    if spec.photometric is not None:
        raise OutputOptionInvalid(
            f"photometric={spec.photometric} cannot be set for a batch result (a COG, whose "
            "driver picks it); drop photometric"
        )
    if spec.blockxsize != spec.blockysize:
        raise OutputOptionInvalid(
            f"Batch results are COGs with square tiles but blockxsize={spec.blockxsize} and "
            f"blockysize={spec.blockysize}; give both the same value"
        )
    return replace(spec, cog=True, tiled=True)


def layout_for(
    dtype: np.dtype[Any],
    spec: OutputSpec,
    bands: tuple[str, ...],
    times: tuple[datetime, ...] | None,
) -> RasterLayout:
    """The layout of a result of ``dtype`` with these bands and dates, as ``spec`` asks."""
    stored = file_dtype(np.dtype(dtype))
    if spec.compress == "JPEG":
        return RasterLayout(stored.name, None, True, bands, times)
    if stored.kind in ("f", "c"):
        return RasterLayout(stored.name, float("nan"), False, bands, times)
    info = np.iinfo(stored)
    nodata = int(info.min) if info.min < 0 else int(info.max)
    return RasterLayout(stored.name, nodata, False, bands, times)


def file_values(cube: Cube, layout: RasterLayout) -> tuple[np.ndarray, np.ndarray | None]:
    """The chunk's ``(count, y, x)`` values for the file, and its ``(y, x)`` validity mask.

    Dates of the layout the chunk does not have (no item under it that day) are masked.
    Masked pixels hold the nodata value; the mask (255 valid, 0 masked, where any band is
    masked) is returned only for layouts with a mask band.
    """
    n_b, height, width = len(layout.bands), cube.height, cube.width
    data = np.ma.getdata(cube.data)
    mask = np.ma.getmaskarray(cube.data)
    if layout.times is not None and cube.times != layout.times:
        full = np.zeros((len(layout.times), n_b, height, width), dtype=data.dtype)
        full_mask = np.ones(full.shape, dtype=bool)
        position = {t: i for i, t in enumerate(layout.times)}
        for k, when in enumerate(cube.times or ()):
            full[position[when]] = data[k]
            full_mask[position[when]] = mask[k]
        data, mask = full, full_mask
    values = data.reshape(layout.count, height, width).astype(layout.dtype, copy=False)
    mask = mask.reshape(layout.count, height, width)
    if layout.mask:
        valid = np.where(mask.any(axis=0), np.uint8(0), np.uint8(255))
        return values, valid
    assert layout.nodata is not None
    if values.dtype.kind not in ("f", "c") and bool(((values == layout.nodata) & ~mask).any()):
        raise OutputOptionInvalid(
            f"The result has valid pixels equal to {layout.nodata}, the nodata value of "
            f"{layout.dtype} batch results; convert the result to float (NaN marks no data) "
            "or shift its values"
        )
    return np.where(mask, values.dtype.type(layout.nodata), values), None
