"""Read netCDF results back independently: rasterio (GDAL's netCDF driver) and Debian's
``gdalinfo`` / ``gdalmdiminfo`` command-line tools, any GDAL warning counting as a failure."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio


def _tool(name: str, *args: str) -> dict[str, Any]:
    """The JSON output of a GDAL tool; skips (saying why) where gdal-bin is missing."""
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} (Debian's gdal-bin) is not installed; .ci/run installs it")
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def gdalinfo(path: Path | str, *options: str) -> dict[str, Any]:
    """``gdalinfo -json`` of a file or subdataset, with more ``options`` (``-stats``)."""
    return _tool("gdalinfo", "-json", *options, str(path))


def gdalmdiminfo(path: Path) -> dict[str, Any]:
    """``gdalmdiminfo -detailed`` of a file: its dimensions, arrays and their values."""
    return _tool("gdalmdiminfo", "-detailed", str(path))


def netcdf_bands(path: Path) -> list[tuple[np.ma.MaskedArray, dict[str, str], Any]]:
    """Every GDAL band of a netCDF file, through its variables when it has several:
    ``(values, tags, (crs, transform))``."""
    with rasterio.open(path) as top:
        sources = list(top.subdatasets) or [str(path)]
    bands = []
    for source in sources:
        with rasterio.open(source) as ds:
            assert ds.driver == "netCDF"
            for i in range(1, ds.count + 1):
                bands.append((ds.read(i, masked=True), ds.tags(i), (ds.crs, ds.transform)))
    return bands
