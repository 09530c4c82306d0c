"""Batch jobs with netCDF results, on a local Dask cluster of two worker processes: read
back with rasterio and Debian's GDAL tools, equal band for band and date for date to the
synchronous netCDF result of the same graph and to the batch GeoTIFF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from starlette.testclient import TestClient

from ondemand.batch.assemble import RasterAssembler
from ondemand.batch.chunks import split_window
from ondemand.batch.layout import batch_spec
from ondemand.batch.worker import ChunkResult
from ondemand.settings import Settings
from ondemand.window import Window
from services import create_app
from tests.support.batchdata import (
    MIN_NDVI,
    NDVI_SERIES,
    done,
    download,
    make_series,
    result_links,
    wait_for,
)
from tests.support.cluster import dask_cluster
from tests.support.netcdf import gdalinfo, gdalmdiminfo, netcdf_bands

BANDS_SERIES: dict[str, Any] = {
    "process_id": "filter_bands",
    "args": {"imagery": {"product_id": "T"}, "bands": ["B04", "B08"]},
}
BANDS_MAX: dict[str, Any] = {"process_id": "max_time", "args": {"imagery": BANDS_SERIES}}
DATES = (datetime(2020, 1, 5, tzinfo=UTC), datetime(2020, 1, 9, tzinfo=UTC))
"""The acquisition dates of the test collection (items ``a`` and ``b``)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NC_TYPE = "application/x-netcdf"

CASES: dict[str, tuple[dict[str, Any], dict[str, Any], tuple[str, ...], bool]] = {
    # graph, output, bands, has time
    "ndvi_series": (NDVI_SERIES, {"format": "netCDF"}, ("ndvi",), True),
    "min_ndvi": (MIN_NDVI, {"format": "nc"}, ("ndvi",), False),
    "bands_series": (BANDS_SERIES, {"format": "application/x-netcdf"}, ("B04", "B08"), True),
    "bands_max_on_a_grid": (BANDS_MAX, {"format": "NetCDF4", "resolution": 20},
                            ("B04", "B08"), False),
}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_series(tmp_path_factory.mktemp("batch-nc-data"))


@pytest.fixture(scope="module")
def client(collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("batch-nc-server"), catalogs=(collection,),
        batch_workers=2, batch_chunk_size=64, batch_jobs=2,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def run(client: TestClient, graph: dict[str, Any], output: dict[str, Any]) -> str:
    """Create a job, queue it with ``output`` the draft's way, wait until it is finished."""
    response = client.post("/jobs", json={"process_graph": graph})
    assert response.status_code == 200, response.text
    job_id = str(response.json()["job_id"])
    queued = client.patch(f"/jobs/{job_id}/queue", json={"output": output})
    assert queued.status_code == 200, queued.text
    job = wait_for(client.get, job_id, done)
    assert job["status"] == "finished", job
    return job_id




def save(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def days(when: datetime) -> float:
    return (when - EPOCH).total_seconds() / 86400


def assert_same_pixels(got: np.ma.MaskedArray, want: np.ma.MaskedArray) -> None:
    """Equal masks and exactly equal values elsewhere; float data: the same raw values,
    NaN at the same places."""
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_array_equal(got.compressed(), want.compressed())
    if got.dtype.kind == "f":
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(np.ma.getdata(got), np.ma.getdata(want))
        np.testing.assert_array_equal(np.isnan(np.ma.getdata(got)), np.ma.getmaskarray(got))


@pytest.mark.parametrize("case", list(CASES))
def test_batch_netcdf_equals_synchronous_netcdf_and_batch_geotiff(
    client: TestClient, case: str, tmp_path: Path
) -> None:
    graph, output, bands, has_time = CASES[case]
    job_id = run(client, graph, output)
    files = result_links(client, job_id)
    assert [(f["href"].rsplit("/", 1)[1], f["type"]) for f in files] == [
        ("result.nc", NC_TYPE), ("result.json", "application/geo+json")]
    content = download(client, files[0]["href"]).content
    assert content[:4] == b"\x89HDF" and files[0]["file:size"] == len(content)  # netCDF-4
    batch = save(tmp_path / "batch.nc", content)
    sync = client.post("/jobs/execute", json={"process_graph": graph, "output": output})
    assert sync.status_code == 200 and sync.headers["content-type"] == NC_TYPE, sync.text
    tif_job = run(client, graph, {**output, "format": "GTiff"})
    tif = download(client, result_links(client, tif_job)[0]["href"]).content

    got, want = netcdf_bands(batch), netcdf_bands(save(tmp_path / "sync.nc", sync.content))
    dates = DATES if has_time else (None,)
    assert len(got) == len(want) == len(dates) * len(bands)
    with rasterio.open(io.BytesIO(tif)) as cog:
        assert cog.count == len(got)
        for index, ((values, tags, grid), (same, same_tags, same_grid)) in enumerate(
            zip(got, want, strict=True)
        ):
            assert grid[0] == same_grid[0] == cog.crs
            assert grid[1].almost_equals(same_grid[1]) and grid[1].almost_equals(cog.transform)
            assert tags == same_tags
            assert_same_pixels(values, same)
            assert_same_pixels(values, cog.read(index + 1, masked=True))
            assert values.count() > 0.4 * values.size
            assert tags.get("band", bands[0]) == bands[index % len(bands)]
            when = dates[index // len(bands)]
            if len(bands) > 1:
                assert tags["long_name"] == cog.descriptions[index]
                assert tags.get("datetime") == (when.isoformat() if when else None)
            else:
                assert tags["NETCDF_VARNAME"] == "ndvi"
                if when is not None:
                    assert float(tags["NETCDF_DIM_t"]) == days(when)
    info = gdalinfo(batch, "-stats")
    assert info["driverShortName"] == "netCDF"
    if len(bands) == 1:
        assert [b["band"] for b in info["bands"]] == list(range(1, len(dates) + 1))
        assert info["size"] == [cog.width, cog.height]
        for band, (values, _, _) in zip(info["bands"], got, strict=True):
            stats = {k: float(v) for k, v in band["metadata"][""].items()
                     if k.startswith("STATISTICS_")}
            exact = values.astype(np.float64)
            assert [stats["STATISTICS_MINIMUM"], stats["STATISTICS_MAXIMUM"],
                    stats["STATISTICS_MEAN"]] == pytest.approx(
                [exact.min(), exact.max(), exact.mean()], rel=1e-9, abs=1e-12)
    else:
        subdatasets = info["metadata"]["SUBDATASETS"]
        names = [v.rsplit(":", 1)[1] for k, v in subdatasets.items() if k.endswith("_NAME")]
        assert names == [f"Band{i}" for i in range(1, len(got) + 1)]


def test_one_band_series_has_a_cf_time_axis_of_the_job_dates(
    client: TestClient, tmp_path: Path
) -> None:
    job_id = run(client, NDVI_SERIES, {"format": "netCDF"})
    files = result_links(client, job_id)
    item = download(client, files[1]["href"]).json()
    assert item["properties"]["start_datetime"] == "2020-01-05T00:00:00Z"
    assert item["properties"]["end_datetime"] == "2020-01-09T00:00:00Z"
    info = gdalmdiminfo(save(tmp_path / "series.nc", download(client, files[0]["href"]).content))
    arrays = info["arrays"]
    assert arrays["ndvi"]["dimensions"] == ["/t", "/y", "/x"]
    time_axis = arrays["t"]
    attributes = {k: v["value"] for k, v in time_axis["attributes"].items()}
    assert attributes["units"] == "days since 1970-01-01 00:00:00"
    assert (attributes["standard_name"], attributes["axis"]) == ("time", "T")
    assert attributes["calendar"] == "standard"
    assert time_axis["values"] == [days(d) for d in DATES]
    assert "grid_mapping" in arrays["ndvi"]["attributes"]


def test_stac_item_and_downloads_say_netcdf(client: TestClient) -> None:
    job_id = run(client, NDVI_SERIES, {"format": "netCDF"})
    files = result_links(client, job_id)
    item = download(client, files[1]["href"]).json()
    asset = item["assets"]["result"]
    assert asset["href"] == "./result.nc" and asset["type"] == NC_TYPE
    assert "netCDF" in asset["title"] and asset["file:size"] == files[0]["file:size"]
    assert [b["data_type"] for b in asset["raster:bands"]] == ["float32", "float32"]
    whole = download(client, files[0]["href"])
    assert whole.headers["content-type"] == NC_TYPE
    assert whole.headers["content-disposition"].endswith('result.nc"')
    head = client.head(files[0]["href"].replace("http://testserver", ""))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole.content)
    assert head.headers["accept-ranges"] == "bytes"
    for spec, expected in (("bytes=0-99", whole.content[:100]),
                           ("bytes=1000-4095", whole.content[1000:4096]),
                           ("bytes=-1", whole.content[-1:])):
        part = download(client, files[0]["href"], Range=spec)
        assert part.status_code == 206 and part.content == expected, spec
        assert int(part.headers["content-length"]) == len(expected)


def test_the_drafts_use_case_3_job_output_netcdf_then_queue_without_a_body(
    client: TestClient,
) -> None:
    """The draft's way: the output is the job's (POST /jobs), PATCH .../queue has no body."""
    body = {"process_graph": MIN_NDVI, "output": {"format": "netCDF"}}
    job_id = str(client.post("/jobs", json=body).json()["job_id"])
    assert client.patch(f"/jobs/{job_id}/queue").status_code == 200
    assert wait_for(client.get, job_id, done)["status"] == "finished"
    files = result_links(client, job_id)
    assert files[0]["href"].endswith("/result.nc") and files[0]["type"] == NC_TYPE
    assert download(client, files[0]["href"]).content[:4] == b"\x89HDF"


@pytest.mark.parametrize(
    ("name", "output", "words"),
    [
        ("jpeg_compression", {"format": "netCDF", "compress": "JPEG"},
         ["'compress' is not supported for format netCDF", "drop it or use format=GTiff"]),
        ("cog_blocks", {"format": "nc", "blockxsize": 256, "blockysize": 128},
         ["'blockxsize' is not supported for format netCDF", "always deflated netCDF-4"]),
        ("photometric", {"format": "netCDF", "photometric": "RGB"},
         ["'photometric'", "drop it or use format=GTiff"]),
        ("colormap", {"format": "netCDF", "colormap": "viridis"},
         ["'colormap'", "format=GTiff or PNG or JPEG"]),
    ],
)
def test_options_netcdf_cannot_take_are_refused_with_what_to_do(
    client: TestClient, name: str, output: dict[str, Any], words: list[str]
) -> None:
    job_id = str(client.post("/jobs", json={"process_graph": NDVI_SERIES}).json()["job_id"])
    response = client.post(f"/jobs/{job_id}/batch", json={"output": output})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 3002
    for word in words:
        assert word in response.json()["message"]
    assert "netCDF takes: crs, height, resampling, resolution, width" in response.json()[
        "message"]
    assert client.get(f"/jobs/{job_id}").json()["status"] == "submitted"


def test_geotiff_batch_results_are_unchanged(client: TestClient) -> None:
    job_id = run(client, MIN_NDVI, {"format": "GTiff"})
    files = result_links(client, job_id)
    assert files[0]["href"].endswith("/result.tif")
    assert files[0]["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert download(client, files[1]["href"]).json()["assets"]["result"]["href"] == "./result.tif"


def test_netcdf_from_an_external_dask_cluster(collection: Path, tmp_path: Path) -> None:
    """Chunks computed by ``dask worker`` processes, assembled and converted by the server."""
    with dask_cluster(workers=2) as address:
        settings = Settings(data_dir=tmp_path / "server", catalogs=(collection,),
                            dask_scheduler=address, batch_chunk_size=64)
        with TestClient(create_app(settings)) as external:
            job_id = run(external, BANDS_SERIES, {"format": "netCDF"})
            runner = external.app.state.ondemand.batch  # type: ignore[attr-defined]
            assert runner.cluster.local is None and runner.cluster.address == address
            content = download(external, result_links(external, job_id)[0]["href"]).content
            sync = external.post("/jobs/execute", json={
                "process_graph": BANDS_SERIES, "output": {"format": "netCDF"}}).content
    got = netcdf_bands(save(tmp_path / "batch.nc", content))
    want = netcdf_bands(save(tmp_path / "sync.nc", sync))
    assert len(got) == len(want) == 4
    for (values, tags, _), (same, same_tags, _) in zip(got, want, strict=True):
        assert tags == same_tags
        assert_same_pixels(values, same)


def test_assembler_writes_netcdf_from_chunks_in_any_order(tmp_path: Path) -> None:
    """int16 chunks written in reverse order: the file holds every chunk's values at its
    place, nodata as ``_FillValue``, and nothing but ``result.nc`` is left in the folder."""
    window = Window(CRS.from_epsg(32633), (500000.0, 3999000.0, 501500.0, 4000000.0), 150, 100)
    spec = batch_spec({"format": "netCDF"})
    assembler = RasterAssembler(tmp_path, window, spec, DATES)
    rng = np.random.default_rng(3)
    expected = rng.integers(-1000, 1000, (2, 100, 150)).astype("int16")
    expected[:, :10, :10] = np.iinfo("int16").min  # masked pixels hold the layout's nodata
    for chunk in reversed(split_window(window, 64)):
        rows = slice(chunk.row_off, chunk.row_off + chunk.height)
        cols = slice(chunk.col_off, chunk.col_off + chunk.width)
        assembler.write(chunk, ChunkResult(expected[:, rows, cols].copy(), None, ("B04",),
                                           "int16"))
    assert assembler.finish(tmp_path / "result.nc")
    assembler.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.nc"]
    bands = netcdf_bands(tmp_path / "result.nc")
    assert [float(tags["NETCDF_DIM_t"]) for _, tags, _ in bands] == [days(d) for d in DATES]
    for index, (values, tags, grid) in enumerate(bands):
        assert tags["NETCDF_VARNAME"] == "B04" and grid[0] == window.crs
        assert values.dtype == np.int16 and values.mask[:10, :10].all()
        assert int(values.mask.sum()) == 100
        np.testing.assert_array_equal(values.filled(np.iinfo("int16").min), expected[index])
