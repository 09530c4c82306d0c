"""The API draft's two synchronous examples (``jobs.md``), sent byte for byte.

1. "Retrieval of a GeoTIFF": min NDVI with ``compress=jpeg, photometric=YCBCR,
   jpeg_quality=80`` -> a rendered, tiled, YCbCr JPEG GeoTIFF on the request's grid
   whose colours are the float result through the default NDVI style.
2. "Retrieval of time series": zonal statistics of ``/users/me/files/`` -> a clear
   404 before anything is uploaded, a GeoPackage GDAL opens warning-free after.
"""

from __future__ import annotations

import copy
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import PhotometricInterp
from starlette.testclient import TestClient

from ondemand.demo import ensure_demo_catalog
from ondemand.formats.colormaps import colormap_lut
from ondemand.settings import Settings
from services import create_app
from tests.support.gdal import ogrinfo_strict
from tests.support.polygons import POLYGON
from tests.support.seed import SEED, first_execute_example, zonal_draft_request

BOUNDS = (652000.0, 5161000.0, 672000.0, 5181000.0)


def test_examples_are_the_drafts_bytes() -> None:
    text = (SEED / "jobs.md").read_text()
    for body in (first_execute_example(), zonal_draft_request()):
        for key in ("compress", "photometric", "jpeg_quality", "regions", "func"):
            found = _find(body, key)
            if found is not None:
                assert f'"{key}":{json.dumps(found)}' in text.replace(" ", "")


def _find(value: object, key: str) -> object:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for inner in value.values():
            if (found := _find(inner, key)) is not None:
                return found
    return None


@pytest.fixture(scope="module")
def fresh(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A server on the demo catalog whose user has uploaded nothing yet."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fresh"),
        catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def rendered(fresh: TestClient) -> tuple[bytes, str]:
    response = fresh.post("/jobs/execute", json=first_execute_example())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/tiff")
    return response.content, response.headers["OnDemand-Rendering"]


@pytest.fixture(scope="module")
def float_ndvi(fresh: TestClient) -> np.ma.MaskedArray:
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": "GTiff", "tiled": True, "compress": "deflate"}
    response = fresh.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    with rasterio.open(io.BytesIO(response.content)) as src:
        assert src.dtypes == ("float32",)
        return src.read(1, masked=True)


def test_first_example_is_a_tiled_ycbcr_jpeg_geotiff(rendered: tuple[bytes, str]) -> None:
    content, note = rendered
    assert "colormap rdylgn over [-1, 1]" in note and "compress=DEFLATE" in note
    with rasterio.open(io.BytesIO(content)) as src:
        assert (src.count, src.dtypes) == (3, ("uint8", "uint8", "uint8"))
        structure = src.tags(ns="IMAGE_STRUCTURE")
        assert structure["COMPRESSION"] == "YCbCr JPEG" and structure["JPEG_QUALITY"] == "80"
        assert src.photometric == PhotometricInterp.ycbcr
        assert src.block_shapes == [(256, 256)] * 3  # tiled
        assert src.crs.to_epsg() == 32632
        assert tuple(src.bounds) == BOUNDS and (src.width, src.height) == (1000, 1000)


def test_first_example_colours_follow_the_default_ndvi_style(
    rendered: tuple[bytes, str], float_ndvi: np.ma.MaskedArray
) -> None:
    with rasterio.open(io.BytesIO(rendered[0])) as src:
        rgb = src.read().astype(int)
        nodata = src.dataset_mask() == 0
    np.testing.assert_array_equal(nodata, np.ma.getmaskarray(float_ndvi))
    # the float result through rdylgn over [-1, 1], by numpy
    index = np.clip(np.rint((float_ndvi.filled(0) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    want = np.moveaxis(colormap_lut("rdylgn")[index][..., :3], -1, 0).astype(int)
    error = np.abs(rgb - want).max(axis=0)[~nodata]
    assert np.median(error) <= 4 and np.percentile(error, 90) <= 24  # lossy JPEG, chroma 2x2
    # a few pixels in smooth areas (the style's colour varies little around them)
    flat = [(r, c) for r in range(8, 992, 61) for c in range(8, 992, 67)
            if np.ptp(want[:, r - 4 : r + 5, c - 4 : c + 5], axis=(1, 2)).max() <= 8
            and not nodata[r, c]]
    assert len(flat) >= 5
    for r, c in flat:
        assert np.abs(rgb[:, r, c] - want[:, r, c]).max() <= 16, (r, c, rgb[:, r, c])


def test_second_example_without_uploads_says_where_and_how(fresh: TestClient) -> None:
    response = fresh.post("/jobs/execute", json=zonal_draft_request())
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404
    message = body["message"]
    assert "/users/local/files/" in message  # the folder looked up
    assert "PUT /users/local/files/<name>.geojson" in message
    assert "docs/zonal-statistics.md" in message
    missing = zonal_draft_request()
    missing["process_graph"]["args"]["regions"] = "/users/me/files/fields.geojson"
    response = fresh.post("/jobs/execute", json=missing)
    assert response.status_code == 404
    assert "PUT /users/local/files/fields.geojson" in response.json()["message"]


def test_second_example_after_an_upload_is_a_clean_geopackage(
    fresh: TestClient, tmp_path: Path
) -> None:
    put = fresh.put("/users/me/files/field.geojson", content=json.dumps(POLYGON).encode())
    assert put.status_code == 204, put.text
    response = fresh.post("/jobs/execute", json=zonal_draft_request())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "result.gpkg"
    path.write_bytes(response.content)
    report = ogrinfo_strict(path)
    assert "Feature Count: 3" in report and "B08_mean (Real)" in report
    with sqlite3.connect(path) as db:
        dates = [row[0] for row in db.execute("SELECT date FROM zonal_statistics")]
    assert len(dates) == 3
    assert all(len(d) == 24 and d.endswith(".000Z") and d[10] == "T" for d in dates), dates
