"""netCDF through openEO 1.2: listed by /file_formats, and a client download read back by
GDAL equal, date for date, to the GeoTIFF of the same graph."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import requests

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


def test_a_batch_job_in_netcdf_equals_the_synchronous_download(alice: Any,
                                                               tmp_path: Path) -> None:
    series = alice.load_collection(COLLECTIONS[0], spatial_extent=EXTENT,
                                   temporal_extent=["2018-01-01", "2018-04-25"],
                                   bands=["B4", "B5"]).ndvi()
    series.download(tmp_path / "sync.nc", format="netCDF")
    job = series.create_job(out_format="netCDF", title="ndvi series in netCDF")
    job.start_and_wait(print=lambda *_: None, max_poll_interval=1)
    results = job.get_results()
    assets = {a.key: a.metadata for a in results.get_assets()}
    assert assets["result.nc"]["type"] == "application/x-netcdf"
    assert len(assets["result.nc"]["raster:bands"]) == 5
    files = results.download_files(tmp_path / "batch")
    ncs = [f for f in files if f.suffix == ".nc"]
    assert len(ncs) == 1 and ncs[0].stat().st_size == assets["result.nc"]["file:size"]
    href = assets["result.nc"]["href"]
    head = requests.head(href, auth=alice.auth, timeout=30)
    assert head.status_code == 200 and head.headers["content-type"] == "application/x-netcdf"
    assert int(head.headers["content-length"]) == ncs[0].stat().st_size
    part = requests.get(href, auth=alice.auth, headers={"Range": "bytes=8-1031"}, timeout=30)
    assert part.status_code == 206 and part.content == ncs[0].read_bytes()[8:1032]
    with rasterio.open(ncs[0]) as nc, rasterio.open(tmp_path / "sync.nc") as sync:
        assert nc.driver == "netCDF" and nc.count == sync.count == 5
        assert nc.crs == sync.crs and nc.transform.almost_equals(sync.transform)
        assert [nc.tags(b) for b in nc.indexes] == [sync.tags(b) for b in sync.indexes]
        for band in nc.indexes:
            got, want = nc.read(band, masked=True), sync.read(band, masked=True)
            assert want.count() > 100
            np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
            np.testing.assert_array_equal(got.compressed(), want.compressed())
        days = [float(nc.tags(b)["NETCDF_DIM_t"]) for b in nc.indexes]
    dates = [datetime.fromisoformat(d["description"]).replace(tzinfo=UTC)
             for d in assets["result.nc"]["raster:bands"]]
    assert len(set(dates)) == 5
    assert days == pytest.approx(  # within a millisecond, as doubles in days
        [(d - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400 for d in dates],
        rel=0, abs=1e-8)
    job.delete()


def test_a_geotiff_option_on_a_netcdf_batch_job_is_refused_with_what_to_do(alice: Any) -> None:
    series = alice.load_collection(COLLECTIONS[0], spatial_extent=EXTENT,
                                   temporal_extent=["2018-01-01", "2018-04-25"],
                                   bands=["B4", "B5"]).ndvi()
    with pytest.raises(openeo.rest.OpenEoApiError) as raised:
        job = series.create_job(out_format="netCDF", compress="JPEG")
        job.start()
    assert raised.value.http_status_code == 400
    assert raised.value.code == "FormatArgumentUnsupported"
    assert "'compress' is not supported for format netCDF" in raised.value.message
    assert "drop it or use format=GTiff" in raised.value.message
