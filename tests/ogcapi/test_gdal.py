"""GDAL's OGCAPI driver (Debian's gdal-bin; rasterio's wheel lacks it) against a live server.

- ``gdalinfo OGCAPI:<landing>`` lists the published jobs as subdatasets;
- ``gdal_translate`` of a job's coverage equals ``/jobs/execute`` of the same window;
- ``-oo API=TILES`` assembles the same pixels as the WMTS tiles of the job.

GDAL 3.6 quirks, worked around as docs/ogc-api.md tells users: its tiles reader needs
TMS 1.0 JSON and tileset limits spanning whole rows (both what ``?tms-encoding=1.0``
on the collection URL gives) and does not reproject the collection's CRS84 extent
(so WorldCRS84Quad); its coverage reader labels every coverage EPSG:4326 whatever its
CRS (the grid numbers are right: they are checked here).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile

from ondemand.settings import Settings
from tests.support.live import live_server

from .conftest import BBOX, collection_path, graphs, with_bbox, with_dates

pytestmark = pytest.mark.skipif(
    shutil.which("gdal_translate") is None,
    reason="GDAL's command-line programs (Debian gdal-bin) are not installed; CI installs them",
)
NATIVE = (652000.0, 20.0, 0.0, 5181000.0, 0.0, -20.0)
"""The min NDVI job's grid as GDAL's geotransform."""
LEVEL = 10
"""WorldCRS84Quad level GDAL reads tiles at (about 50 m pixels)."""


@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path) -> Iterator[str]:
    with live_server(Settings(data_dir=demo_data_dir, demo=True)) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def jobs(base_url: str, http: httpx.Client) -> dict[str, dict[str, str]]:
    """``name -> {job_id, collection, wmts}``: each job published as ``ogcapi`` (the
    collection URL) and as ``wmts`` (to compare tiles)."""
    out: dict[str, dict[str, str]] = {}
    for name, graph in graphs().items():
        job_id = http.post("/jobs", json={"process_graph": graph, "title": f"NDVI {name}"}).json()[
            "job_id"
        ]
        ids = {
            kind: http.post("/services", json={"job_id": job_id, "type": kind}).json()["service_id"]
            for kind in ("ogcapi", "wmts")
        }
        out[name] = {
            "job_id": job_id,
            "collection": f"{base_url}{collection_path(ids['ogcapi'])}",
            "root": f"{base_url}/services/{ids['ogcapi']}/ogcapi/",
            "wmts": ids["wmts"],
        }
    return out


@pytest.fixture(scope="module", autouse=True)
def wms_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """GDAL's driver caches blocks (in ./gdalwmscache by default): keep them in a temp dir."""
    os.environ["GDAL_DEFAULT_WMS_CACHE_PATH"] = str(tmp_path_factory.mktemp("gdalwmscache"))
    yield
    del os.environ["GDAL_DEFAULT_WMS_CACHE_PATH"]


def gdal(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def execute(http: httpx.Client, graph: Any) -> np.ma.MaskedArray:
    body = {"process_graph": graph, "output": {"format": "GTiff"}}
    response = http.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def test_gdalinfo_landing_lists_the_jobs(base_url: str, jobs: dict[str, dict[str, str]]) -> None:
    info = json.loads(gdal("gdalinfo", "-json", f"OGCAPI:{base_url}/ogcapi/"))
    names = [v for k, v in info["metadata"]["SUBDATASETS"].items() if k.endswith("_NAME")]
    for job in jobs.values():
        assert f"OGCAPI:{job['collection']}" in names
    descriptions = [v for k, v in info["metadata"]["SUBDATASETS"].items() if k.endswith("_DESC")]
    assert "Collection NDVI min" in descriptions
    assert "Collection S2_L2A_T32TPS_20M" in " ".join(descriptions) or len(names) > 2


def test_gdalinfo_service_root_lists_its_job(jobs: dict[str, dict[str, str]]) -> None:
    info = json.loads(gdal("gdalinfo", "-json", f"OGCAPI:{jobs['min']['root']}"))
    subdatasets = info["metadata"]["SUBDATASETS"]
    assert subdatasets == {
        "SUBDATASET_1_NAME": f"OGCAPI:{jobs['min']['collection']}",
        "SUBDATASET_1_DESC": "Collection NDVI min",
    }


def test_gdal_translate_coverage_equals_execute(
    base_url: str, http: httpx.Client, jobs: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    out = tmp_path / "min.tif"
    collection = f"OGCAPI:{jobs['min']['collection']}"
    gdal("gdal_translate", "-q", collection, str(out))
    with rasterio.open(out) as dataset:
        assert dataset.transform.to_gdal() == pytest.approx(NATIVE, abs=1e-9)
        assert dataset.dtypes == ("float32",)
        data = dataset.read(masked=True)
    expected = execute(http, graphs()["min"])
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def test_gdal_reads_one_date_of_a_series(
    base_url: str, http: httpx.Client, jobs: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    """The collection URL's ``datetime`` is carried into the coverage link GDAL follows."""
    out = tmp_path / "one-date.tif"
    url = f"{jobs['series']['collection']}?datetime=2017-01-14"
    gdal("gdal_translate", "-q", f"OGCAPI:{url}", str(out))
    with rasterio.open(out) as dataset:
        data = dataset.read(masked=True)
    one_date = with_bbox(with_dates(graphs()["series"], "2017-01-14", "2017-01-14"), **BBOX)
    expected = execute(http, one_date)
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def _wmts_tile(http: httpx.Client, job_id: str, service_id: str, row: int, col: int) -> np.ndarray:
    response = http.get(
        f"/services/{service_id}/wmts",
        params={
            "SERVICE": "WMTS", "REQUEST": "GetTile", "VERSION": "1.0.0", "LAYER": job_id,
            "STYLE": "default", "TILEMATRIXSET": "WorldCRS84Quad", "TILEMATRIX": str(LEVEL),
            "TILEROW": str(row), "TILECOL": str(col), "FORMAT": "image/png",
        },
    )
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        return dataset.read()


def test_tiles_api_gives_the_wmts_pixels(
    base_url: str, http: httpx.Client, jobs: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    out = tmp_path / "tiles.tif"
    job = jobs["min"]
    url = f"{job['collection']}?tms-encoding=1.0"
    gdal(
        "gdal_translate", "-q", "-oo", "API=TILES", "-oo", "TILEMATRIXSET=WorldCRS84Quad",
        "-oo", f"TILEMATRIX={LEVEL}", f"OGCAPI:{url}", str(out),
    )
    with rasterio.open(out) as dataset:
        data, transform = dataset.read(), dataset.transform
    res = 180 / 2**LEVEL / 256
    assert transform.a == pytest.approx(res, rel=1e-9)
    assert transform.e == pytest.approx(-res, rel=1e-9)
    x0, y0 = (transform.c + 180) / res, (90 - transform.f) / res
    assert abs(x0 - round(x0)) < 1e-6 and abs(y0 - round(y0)) < 1e-6
    x0, y0 = round(x0), round(y0)
    height, width = data.shape[1:]
    cols = range(x0 // 256, (x0 + width - 1) // 256 + 1)
    rows = range(y0 // 256, (y0 + height - 1) // 256 + 1)
    mosaic = np.concatenate(
        [
            np.concatenate(
                [_wmts_tile(http, job["job_id"], job["wmts"], r, c) for c in cols], axis=2
            )
            for r in rows
        ],
        axis=1,
    )
    left, top = x0 - cols[0] * 256, y0 - rows[0] * 256
    expected = mosaic[:, top : top + height, left : left + width]
    assert data.shape[0] == 4 and math.prod(data.shape[1:]) > 100 * 100
    np.testing.assert_array_equal(data, expected)
