"""netCDF through openEO 1.2: listed by /file_formats, and a client download read back by
GDAL equal, date for date, to the GeoTIFF of the same graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from tests.openeo.conftest import COLLECTIONS

openeo = pytest.importorskip("openeo")

EXTENT = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}


def test_file_formats_list_netcdf(alice: Any) -> None:
    output = alice.list_file_formats()["output"]
    assert output["netCDF"]["gis_data_types"] == ["raster"]


def test_an_ndvi_series_in_netcdf_equals_the_geotiff(alice: Any, tmp_path: Path) -> None:
    series = alice.load_collection(COLLECTIONS[0], spatial_extent=EXTENT,
                                   temporal_extent=["2018-01-01", "2018-04-25"],
                                   bands=["B4", "B5"]).ndvi()
    series.download(tmp_path / "ndvi.nc", format="NetCDF")
    series.download(tmp_path / "ndvi.tif", format="GTiff")
    with rasterio.open(tmp_path / "ndvi.nc") as nc, rasterio.open(tmp_path / "ndvi.tif") as tif:
        assert nc.driver == "netCDF" and nc.count == tif.count == 5
        assert nc.crs == tif.crs and nc.transform.almost_equals(tif.transform)
        for band in range(1, nc.count + 1):
            got, want = nc.read(band, masked=True), tif.read(band, masked=True)
            assert want.count() > 100
            np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
            np.testing.assert_array_equal(got.compressed(), want.compressed())
        assert {nc.tags(b)["NETCDF_VARNAME"] for b in range(1, nc.count + 1)} == {"ndvi"}
        assert np.isnan(nc.nodata)
