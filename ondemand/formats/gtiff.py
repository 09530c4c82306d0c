"""Write a cube to GeoTIFF (or COG) bytes, keeping its dtype, grid and mask.

Layout: one band per (date, band), date-major. Band descriptions are the band
names; for a cube with a time axis they are the ISO datetimes, followed by a
space and the band name when the cube has more than one band. Each band also
carries the tags ``band`` and (with a time axis) ``datetime``.

Nodata, always consistent with the mask:

- float data: NaN (an unmasked NaN therefore reads back as nodata);
- integer data: a value absent from the valid data, the dtype's maximum
  (unsigned) or minimum (signed) when free, else the nearest free value to it;
- no free value, or ``compress=JPEG`` (lossy, would alter a nodata value): an
  internal mask band instead, masked where any band is masked. If the bands'
  masks differ and no value is free, the data are widened to the next integer
  type (uint8 -> uint16, ...; 64-bit -> float64) to make room for a nodata value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from rasterio.io import MemoryFile

from ..cube import Cube
from .checks import file_dtype
from .options import OutputSpec

_COG_PREDICTOR = {1: "NO", 2: "STANDARD", 3: "FLOATING_POINT"}
_WIDER = {
    "uint8": "uint16",
    "int8": "int16",
    "uint16": "uint32",
    "int16": "int32",
    "uint32": "uint64",
    "int32": "int64",
    "uint64": "float64",
    "int64": "float64",
}
_SEARCH = 256
"""How many values next to the dtype's extreme are tried as integer nodata."""


def descriptions_of(bands: Sequence[str], times: Sequence[datetime] | None) -> list[str]:
    """Descriptions of a file's bands for these bands and dates, in (date, band) order
    (see module doc)."""
    if times is None:
        return list(bands)
    if len(bands) == 1:
        return [t.isoformat() for t in times]
    return [f"{t.isoformat()} {band}" for t in times for band in bands]


def band_descriptions(cube: Cube) -> list[str]:
    """Descriptions of the file's bands of ``cube`` (see :func:`descriptions_of`)."""
    return descriptions_of(cube.bands, cube.times)


def free_int_value(values: np.ndarray, mask: np.ndarray) -> int | None:
    """An integer of ``values.dtype`` absent from the unmasked values, or ``None``."""
    info = np.iinfo(values.dtype)
    first, step = (info.min, 1) if info.min < 0 else (info.max, -1)
    if not bool(((values == first) & ~mask).any()):
        return int(first)  # the common case, without sorting the data
    used = np.unique(values[~mask])
    for offset in range(min(_SEARCH, info.max - info.min + 1)):
        candidate = first + step * offset
        position = np.searchsorted(used, candidate)
        if position == used.size or used[position] != candidate:
            return int(candidate)
    return None


def nodata_plan(
    values: np.ndarray, mask: np.ndarray, spec: OutputSpec
) -> tuple[np.ndarray, float | int | None, np.ndarray | None]:
    """Return the values to write, the nodata value and an optional dataset mask."""
    if spec.compress == "JPEG":
        union = np.asarray(mask.any(axis=0))
        return values, None, (union if bool(union.any()) else None)
    if values.dtype.kind in ("f", "c"):
        return np.where(mask, np.nan, values).astype(values.dtype), float("nan"), None
    nodata = free_int_value(values, mask)
    if nodata is not None:
        return np.where(mask, values.dtype.type(nodata), values), nodata, None
    if not mask.any():
        return values, None, None
    if bool((mask == mask[:1]).all()):
        return values, None, np.asarray(mask[0])
    wider = np.dtype(_WIDER[values.dtype.name])
    return nodata_plan(values.astype(wider), mask, spec)


def creation_options(spec: OutputSpec) -> dict[str, Any]:
    """GDAL creation options of a GeoTIFF written as ``spec`` asks."""
    options: dict[str, Any] = {"compress": spec.compress, "bigtiff": "IF_SAFER"}
    if spec.cog:
        options["blocksize"] = spec.blockxsize
        if spec.predictor is not None:
            options["predictor"] = _COG_PREDICTOR[spec.predictor]
        if spec.jpeg_quality is not None:
            options["quality"] = spec.jpeg_quality
        if spec.zlevel is not None:
            options["level"] = spec.zlevel
        return options
    if spec.tiled:
        options.update(tiled=True, blockxsize=spec.blockxsize, blockysize=spec.blockysize)
    if spec.predictor is not None:
        options["predictor"] = spec.predictor
    if spec.photometric is not None:
        options["photometric"] = spec.photometric
    if spec.jpeg_quality is not None:
        options["jpeg_quality"] = spec.jpeg_quality
    if spec.zlevel is not None:
        options["zlevel"] = spec.zlevel
    return options


def write_gtiff(cube: Cube, spec: OutputSpec) -> bytes:
    """Encode ``cube`` as GeoTIFF bytes (COG with ``spec.cog``); see the module doc."""
    n_t, n_b, height, width = cube.data.shape
    dtype = file_dtype(cube.data.dtype)
    values = np.ma.getdata(cube.data).reshape(n_t * n_b, height, width).astype(dtype, copy=False)
    mask = np.ma.getmaskarray(cube.data).reshape(n_t * n_b, height, width)
    values, nodata, dataset_mask = nodata_plan(values, mask, spec)
    profile: dict[str, Any] = {
        "driver": "COG" if spec.cog else "GTiff",
        "width": width,
        "height": height,
        "count": n_t * n_b,
        "dtype": values.dtype.name,
        "crs": cube.crs,
        "transform": cube.transform,
        "nodata": nodata,
        **creation_options(spec),
    }
    descriptions = band_descriptions(cube)
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(values)
            if dataset_mask is not None:
                dst.write_mask(np.where(dataset_mask, np.uint8(0), np.uint8(255)))
            for index, description in enumerate(descriptions, start=1):
                dst.set_band_description(index, description)
                band = cube.bands[(index - 1) % n_b]
                if cube.times is None:
                    dst.update_tags(index, band=band)
                else:
                    dst.update_tags(
                        index, band=band, datetime=cube.times[(index - 1) // n_b].isoformat()
                    )
        return bytes(memfile.read())
