"""Write a cube to netCDF-4 bytes with GDAL's netCDF driver (in rasterio's wheel).

Layout, CF-1.5 as GDAL writes it, with a grid mapping carrying the CRS and the
geotransform:

- one band: one variable named after the band (``ndvi``, ``B4``), of dimensions
  ``(t, y, x)`` with ``t`` in days since 1970-01-01 (UTC) when the cube has dates,
  else ``(y, x)``; GDAL reads it as one band per date, like the GeoTIFF;
- several bands: one variable per (date, band), date-major as the GeoTIFF's bands,
  named ``Band1`` .. ``BandN`` (GDAL's names) with the GeoTIFF's band description as
  ``long_name`` and ``band`` / ``datetime`` attributes (GDAL's classic netCDF writer
  has no dimension for band names).

No data is NaN for float data; integer data take a free value as ``_FillValue`` (as
in GeoTIFFs), or become float64 with NaN where none is free.

The layout is described by GDAL metadata (:func:`cf_tags`) set on a GeoTIFF that
GDAL's netCDF driver then copies (:func:`copy_to_netcdf`), band by band and row by
row: the synchronous writer stages the cube in memory, a batch run its assembled
GeoTIFF on disk (:mod:`ondemand.batch.assemble`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.shutil
from rasterio.io import DatasetReader, DatasetWriter, MemoryFile

from ..cube import Cube
from .checks import file_dtype
from .gtiff import descriptions_of, nodata_plan
from .hdf5errors import quiet_hdf5_errors
from .options import OutputSpec

__all__ = ["MEDIA_TYPE", "cf_tags", "copy_to_netcdf", "set_cf_tags", "variable_name",
           "write_netcdf"]

MEDIA_TYPE = "application/x-netcdf"
CREATION_OPTIONS = {"FORMAT": "NC4", "COMPRESS": "DEFLATE", "ZLEVEL": 6}
"""netCDF-4 (HDF5), deflated: what GDAL's netCDF driver writes for every result."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAME = re.compile(r"[^A-Za-z0-9_]")


def variable_name(band: str) -> str:
    """The variable name of a one-band result: the band's, made a netCDF name."""
    name = _NAME.sub("_", band) or "data"
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


def cf_tags(
    bands: Sequence[str], times: Sequence[datetime] | None
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Dataset and per-band metadata of a file of these bands and dates, in (date, band)
    order: a ``t`` dimension for one band, else one variable per GDAL band described
    like the GeoTIFF's bands."""
    if len(bands) > 1:
        out = []
        for index, description in enumerate(descriptions_of(bands, times)):
            t, b = divmod(index, len(bands))
            tags = {"long_name": description, "band": bands[b]}
            if times is not None:
                tags["datetime"] = times[t].isoformat()
            out.append(tags)
        return {}, out
    name = variable_name(bands[0])
    if times is None:
        return {}, [{"NETCDF_VARNAME": name, "long_name": bands[0]}]
    days = [repr(_days(t)) for t in times]
    dataset = {
        "NETCDF_DIM_EXTRA": "{t}",
        "NETCDF_DIM_t_DEF": f"{{{len(days)},6}}",
        "NETCDF_DIM_t_VALUES": "{" + ",".join(days) + "}",
        "t#units": "days since 1970-01-01 00:00:00",
        "t#standard_name": "time",
        "t#calendar": "standard",
        "t#axis": "T",
    }
    return dataset, [{"NETCDF_VARNAME": name, "long_name": bands[0], "NETCDF_DIM_t": day}
                     for day in days]


def set_cf_tags(
    dataset: DatasetWriter, bands: Sequence[str], times: Sequence[datetime] | None
) -> None:
    """Describe the layout on a dataset about to be copied with :func:`copy_to_netcdf`."""
    dataset_tags, band_tags = cf_tags(bands, times)
    dataset.update_tags(**dataset_tags)
    for index, tags in enumerate(band_tags, start=1):
        dataset.update_tags(index, **tags)


def copy_to_netcdf(source: DatasetReader | Path, target: Path) -> None:
    """Write ``source`` (tagged by :func:`set_cf_tags`) as a deflated netCDF-4 file."""
    quiet_hdf5_errors()
    rasterio.shutil.copy(source if isinstance(source, DatasetReader) else str(source),
                         str(target), driver="netCDF", **CREATION_OPTIONS)


def write_netcdf(cube: Cube, spec: OutputSpec) -> bytes:
    """Encode ``cube`` as netCDF-4 (deflated) bytes; see the module doc."""
    del spec  # the grid options were applied by the evaluation; nothing else applies
    values, nodata = _values(cube)
    count, height, width = values.shape
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": width, "height": height, "count": count,
        "dtype": values.dtype.name, "crs": cube.crs, "transform": cube.transform,
        "nodata": nodata,
    }
    with MemoryFile() as memfile, tempfile.TemporaryDirectory(prefix="ondemand-nc-") as folder:
        with memfile.open(**profile) as staged:
            staged.write(values)
            set_cf_tags(staged, cube.bands, cube.times)
        target = Path(folder) / "result.nc"
        with memfile.open() as source:
            copy_to_netcdf(source, target)
        return target.read_bytes()
