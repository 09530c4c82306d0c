"""WCS with clients nobody here wrote (OWSLib, GDAL's WCS driver) against a real server.

A uvicorn server on 127.0.0.1 serves the demo catalog; the use-case-1 job (min NDVI)
and its NDVI time series are published as WCS services. GDAL's georeferencing must
equal the native grid to 1e-9 and its pixels ``POST /jobs/execute`` of the same graph.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from owslib.wcs import WebCoverageService
from rasterio.io import MemoryFile

from ondemand.settings import Settings
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

NATIVE = (20.0, 0.0, 652000.0, 0.0, -20.0, 5181000.0)
"""The use-case-1 job's grid: its bbox on the collection's 20 m pixels."""




@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path) -> Iterator[str]:
    """A real server on 127.0.0.1 (GDAL and OWSLib need sockets), stopped afterwards."""
    with live_server(Settings(data_dir=demo_data_dir, demo=True)) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        yield client


def _graphs() -> dict[str, Any]:
    minimum = use_case_1_job()["process_graph"]
    return {"min": minimum, "series": copy.deepcopy(minimum["args"]["imagery"])}


@pytest.fixture(scope="module")
def services(http: httpx.Client) -> dict[str, tuple[str, str]]:
    """``name -> (job_id, service_url)`` for the min-NDVI job and the NDVI series."""
    out: dict[str, tuple[str, str]] = {}
    for name, graph in _graphs().items():
        job = http.post("/jobs", json={"process_graph": graph, "title": f"NDVI {name}"})
        assert job.status_code == 200, job.text
        job_id = job.json()["job_id"]
        service = http.post("/services", json={"job_id": job_id, "type": "wcs"})
        assert service.status_code == 200, service.text
        out[name] = (job_id, service.json()["service_url"])
    return out


@pytest.fixture(scope="module")
def executed(http: httpx.Client) -> dict[str, np.ma.MaskedArray]:
    """``POST /jobs/execute`` of each graph on its default (native) grid."""
    out: dict[str, np.ma.MaskedArray] = {}
    for name, graph in _graphs().items():
        response = http.post(
            "/jobs/execute", json={"process_graph": graph, "output": {"format": "GTiff"}}
        )
        assert response.status_code == 200, response.text
        with MemoryFile(response.content) as memfile, memfile.open() as dataset:
            assert dataset.transform.almost_equals(NATIVE, precision=1e-9)
            out[name] = dataset.read(masked=True)
    return out


@pytest.mark.parametrize("version", ["1.0.0", "2.0.1"])
def test_owslib_parse_describe_get(services: dict[str, tuple[str, str]], version: str) -> None:
    job_id, url = services["min"]
    wcs = WebCoverageService(url, version=version)
    identifier = f"job_{job_id}"
    assert list(wcs.contents) == [identifier]
    coverage = wcs.contents[identifier]
    grid = coverage.grid
    assert [float(v) for v in grid.origin] == [652010.0, 5180990.0]  # centre of pixel (0, 0)
    assert [int(v) for v in grid.highlimits] == [999, 999]
    assert [[float(v) for v in vector] for vector in grid.offsetvectors] == [
        [20.0, 0.0], [0.0, -20.0]]
    if version == "1.0.0":
        assert coverage.boundingBoxWGS84 == pytest.approx((10.984, 46.5805, 11.2524, 46.7652),
                                                          abs=1e-4)
        response = wcs.getCoverage(identifier=identifier, crs="EPSG:32632", format="GeoTIFF",
                                   bbox=(660000, 5170000, 661000, 5171000), width=50, height=50)
    else:
        response = wcs.getCoverage(identifier=identifier, format="image/tiff",
                                   subsets=[("E", 660000, 661000), ("N", 5170000, 5171000)])
    with MemoryFile(response.read()) as memfile, memfile.open() as dataset:
        assert dataset.transform.almost_equals((20, 0, 660000, 0, -20, 5171000), precision=1e-9)
        assert dataset.shape == (50, 50) and dataset.dtypes == ("float32",)


def test_owslib_time_series(services: dict[str, tuple[str, str]]) -> None:
    job_id, url = services["series"]
    coverage = WebCoverageService(url, version="1.0.0").contents[f"job_{job_id}"]
    assert coverage.timepositions == [
        "2017-01-04T10:05:00Z", "2017-01-14T10:05:00Z", "2017-01-24T10:05:00Z"]


@pytest.mark.parametrize("version", ["1.0.0", "2.0.1"])
def test_gdal_reads_the_native_grid_and_execute_values(
    services: dict[str, tuple[str, str]],
    executed: dict[str, np.ma.MaskedArray],
    tmp_path: Path,
    version: str,
) -> None:
    job_id, url = services["min"]
    source = f"WCS:{url}?version={version}&coverage=job_{job_id}"
    with rasterio.Env(GDAL_DEFAULT_WMS_CACHE_PATH=str(tmp_path), GDAL_ENABLE_WMS_CACHE="NO"):
        with rasterio.open(source) as dataset:
            assert dataset.crs.to_epsg() == 32632
            assert dataset.transform.almost_equals(NATIVE, precision=1e-9)
            assert (dataset.count, dataset.height, dataset.width) == (1, 1000, 1000)
            window = ((300, 420), (500, 640))
            values = dataset.read(1, window=window, masked=True)
    expected = executed["min"][0, 300:420, 500:640]
    np.testing.assert_array_equal(np.ma.getmaskarray(values), np.ma.getmaskarray(expected))
    np.testing.assert_array_equal(values.filled(0), expected.filled(0))
    assert values.count() > 0


def test_gdal_wcs10_time_series_reads_the_latest_date(
    services: dict[str, tuple[str, str]], executed: dict[str, np.ma.MaskedArray], tmp_path: Path
) -> None:
    job_id, url = services["series"]
    source = f"WCS:{url}?version=1.0.0&coverage=job_{job_id}"
    with rasterio.Env(GDAL_DEFAULT_WMS_CACHE_PATH=str(tmp_path), GDAL_ENABLE_WMS_CACHE="NO"):
        with rasterio.open(source) as dataset:  # GDAL asks TIME=<last timePosition>
            assert dataset.transform.almost_equals(NATIVE, precision=1e-9)
            values = dataset.read(1, window=((0, 64), (0, 64)), masked=True)
    expected = executed["series"][2, :64, :64]  # bands of the GeoTIFF: one per date
    np.testing.assert_array_equal(values.filled(0), expected.filled(0))
