"""Write a cube to netCDF-4 bytes with GDAL's netCDF driver (in rasterio's wheel).

Layout, CF-1.5 as GDAL writes it: one variable of dimensions ``(t, bands, y, x)``
with ``t`` only for a cube with a time axis and ``bands`` only for more than one
band. The variable is named after the band for a one-band cube (``ndvi``, ``B4``),
else ``data``; ``t`` holds days since 1970-01-01 (UTC), ``bands`` the band numbers
1..n, and the variable's ``band_names`` attribute the names in that order. The grid
mapping carries the CRS and the geotransform. No data is NaN for float data; integer
data take a free value as ``_FillValue`` (as in GeoTIFFs), or become float64 with NaN
where none is free.

GDAL sees the file as one band per (date, band), date-major: the same order as our
GeoTIFFs, so ``gdalinfo`` and rasterio read it band for band like the GeoTIFF.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.shutil
from rasterio.io import MemoryFile

from ..cube import Cube
from .checks import file_dtype
from .gtiff import nodata_plan
from .options import OutputSpec

__all__ = ["MEDIA_TYPE", "variable_name", "write_netcdf"]

MEDIA_TYPE = "application/x-netcdf"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAME = re.compile(r"[^A-Za-z0-9_]")


def variable_name(cube: Cube) -> str:
    """The name of the data variable: the band's for one band (made a netCDF name), else data."""
    if len(cube.bands) != 1:
        return "data"
    name = _NAME.sub("_", cube.bands[0]) or "data"
    return name if name[0].isalpha() else f"v_{name}"


def _days(when: datetime) -> float:
    """Days since 1970-01-01 UTC (naive datetimes are UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return (aware - _EPOCH).total_seconds() / 86400.0


def _values(cube: Cube) -> tuple[np.ndarray, float | int | None]:
    """The (date x band, y, x) values to write and their no-data value."""
    n_t, n_b, height, width = cube.data.shape
    dtype = file_dtype(cube.data.dtype)
    values = np.ma.getdata(cube.data).reshape(n_t * n_b, height, width).astype(dtype, copy=False)
    mask = np.ma.getmaskarray(cube.data).reshape(n_t * n_b, height, width)
    values, nodata, dataset_mask = nodata_plan(values, mask, OutputSpec())
    if dataset_mask is not None or (nodata is None and bool(mask.any())):
        values = np.where(mask, np.nan, values.astype(np.float64))
        nodata = float("nan")
    return values, nodata


def _tags(cube: Cube, name: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Dataset and per-band metadata that make GDAL write the extra dimensions."""
    n_t = 1 if cube.times is None else len(cube.times)
    n_b = len(cube.bands)
    extra: list[str] = []
    dataset: dict[str, str] = {}
    if cube.times is not None:
        extra.append("t")
        days = ",".join(repr(_days(t)) for t in cube.times)
        dataset.update({
            "NETCDF_DIM_t_DEF": f"{{{n_t},6}}",
            "NETCDF_DIM_t_VALUES": f"{{{days}}}",
            "t#units": "days since 1970-01-01 00:00:00",
            "t#standard_name": "time",
            "t#calendar": "standard",
            "t#axis": "T",
        })
    if n_b > 1:
        extra.append("bands")
        dataset.update({
            "NETCDF_DIM_bands_DEF": f"{{{n_b},4}}",
            "NETCDF_DIM_bands_VALUES": "{" + ",".join(str(i + 1) for i in range(n_b)) + "}",
            "bands#long_name": "band number (see band_names)",
        })
    if extra:
        dataset["NETCDF_DIM_EXTRA"] = "{" + ",".join(extra) + "}"
    bands = []
    for index in range(n_t * n_b):
        t, b = divmod(index, n_b)
        tags = {"NETCDF_VARNAME": name, "long_name": name if n_b == 1 else "bands",
                "band_names": " ".join(cube.bands)}
        if cube.times is not None:
            tags["NETCDF_DIM_t"] = repr(_days(cube.times[t]))
        if n_b > 1:
            tags["NETCDF_DIM_bands"] = str(b + 1)
        bands.append(tags)
    return dataset, bands


def write_netcdf(cube: Cube, spec: OutputSpec) -> bytes:
    """Encode ``cube`` as netCDF-4 (deflated) bytes; see the module doc."""
    del spec  # the grid options were applied by the evaluation; nothing else applies
    values, nodata = _values(cube)
    count, height, width = values.shape
    name = variable_name(cube)
    dataset_tags, band_tags = _tags(cube, name)
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": width, "height": height, "count": count,
        "dtype": values.dtype.name, "crs": cube.crs, "transform": cube.transform,
        "nodata": nodata,
    }
    with MemoryFile() as memfile, tempfile.TemporaryDirectory(prefix="ondemand-nc-") as folder:
        with memfile.open(**profile) as staged:
            staged.write(values)
            staged.update_tags(**dataset_tags)
            for index, tags in enumerate(band_tags, start=1):
                staged.update_tags(index, **tags)
        target = Path(folder) / "result.nc"
        with memfile.open() as source:
            rasterio.shutil.copy(source, str(target), driver="netCDF", FORMAT="NC4",
                                 COMPRESS="DEFLATE", ZLEVEL=6)
        return target.read_bytes()
