"""``POST /jobs/execute`` end to end against the demo catalog, checked with rasterio + numpy."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.windows import from_bounds
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from tests.support.seed import first_execute_example, use_case_1_job

BOUNDS = (652000.0, 5161000.0, 672000.0, 5181000.0)
JANUARY = (datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 1, 31, 23, 59, 59, tzinfo=UTC))


def expected_min_ndvi(catalog: Catalog) -> np.ma.MaskedArray:
    """Min NDVI over January 2017, straight from the source files with rasterio and numpy."""
    collection = catalog.get("S2_L2A_T32TPS_20M")
    days: dict[object, list[np.ma.MaskedArray]] = {}
    for item in collection.items:
        if not JANUARY[0] <= item.datetime <= JANUARY[1]:
            continue
        bands = []
        for name in ("B04", "B8A"):
            with rasterio.open(item.assets[name].href) as src:
                window = from_bounds(*BOUNDS, transform=src.transform)
                raw = src.read(1, window=window.round_offsets().round_lengths())
            bands.append(np.ma.masked_equal(raw, 0).astype(np.float64) * 0.0001)
        red, nir = bands
        total = nir + red
        ndvi = np.ma.masked_where(np.ma.getmaskarray(total) | (total == 0), (nir - red) / total)
        days.setdefault(item.datetime.date(), []).append(ndvi)
    assert len(days) >= 3, "the demo must have several January 2017 dates"
    per_day = []
    for layers in days.values():
        mosaic = layers[0]
        for extra in layers[1:]:
            mosaic = np.ma.where(np.ma.getmaskarray(mosaic), extra, mosaic)
        per_day.append(mosaic)
    return np.ma.stack(per_day).min(axis=0)


def geotiff_body(graph: dict[str, Any]) -> dict[str, Any]:
    """The seed request with a GeoTIFF output GDAL can write for float data."""
    body = copy.deepcopy(graph)
    body["output"] = {"format": "GTiff", "tiled": True, "compress": "deflate"}
    return body


@pytest.fixture(scope="module")
def min_ndvi_tif(client: TestClient) -> bytes:
    response = client.post("/jobs/execute", json=geotiff_body(first_execute_example()))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/tiff")
    return response.content


def test_min_ndvi_equals_independent_computation(
    min_ndvi_tif: bytes, demo_catalog: Catalog
) -> None:
    expected = expected_min_ndvi(demo_catalog)
    with rasterio.open(io.BytesIO(min_ndvi_tif)) as src:
        assert src.crs.to_epsg() == 32632
        assert src.bounds == BOUNDS
        assert (src.width, src.height) == (1000, 1000)
        assert src.dtypes == ("float32",)
        got = src.read(1, masked=True)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    valid = ~np.ma.getmaskarray(expected)
    assert valid.mean() > 0.5
    np.testing.assert_allclose(got.data[valid], expected.data[valid], atol=1e-6)


def test_all_dialects_give_identical_bytes(client: TestClient, min_ndvi_tif: bytes) -> None:
    nested_product = geotiff_body(use_case_1_job())
    flat: dict[str, Any] = {
        "process_graph": {
            "load": {
                "process_id": "load_collection",
                "arguments": {"id": "S2_L2A_T32TPS_20M"},
            },
            "bbox": {
                "process_id": "filter_bbox",
                "arguments": {
                    "data": {"from_node": "load"},
                    "extent": {
                        "west": 652000,
                        "east": 672000,
                        "south": 5161000,
                        "north": 5181000,
                        "crs": "EPSG:32632",
                    },
                },
            },
            "dates": {
                "process_id": "filter_temporal",
                "arguments": {
                    "data": {"from_node": "bbox"},
                    "extent": ["2017-01-01", "2017-02-01"],
                },
            },
            "ndvi": {
                "process_id": "ndvi",
                "arguments": {"data": {"from_node": "dates"}, "red": "B04", "nir": "B8A"},
            },
            "min": {
                "process_id": "reduce_dimension",
                "arguments": {
                    "data": {"from_node": "ndvi"},
                    "dimension": "t",
                    "reducer": {
                        "process_graph": {
                            "m": {
                                "process_id": "min",
                                "arguments": {"data": {"from_parameter": "data"}},
                                "result": True,
                            }
                        }
                    },
                },
                "result": True,
            },
        },
        "output": {"format": "GTiff", "tiled": True, "compress": "deflate"},
    }
    for body in (nested_product, flat):
        response = client.post("/jobs/execute", json=body)
        assert response.status_code == 200, response.text
        assert response.content == min_ndvi_tif


def test_draft_jpeg_options_on_a_time_series_name_the_alternatives(client: TestClient) -> None:
    body = copy.deepcopy(first_execute_example())
    body["process_graph"] = body["process_graph"]["args"]["imagery"]  # NDVI, no min_time
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 3003
    assert "compress=JPEG renders" in body["message"] and "3 date(s)" in body["message"]
    assert "compress=DEFLATE" in body["message"]


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("JSON", "application/json")],
)
def test_rendered_and_json_formats(client: TestClient, fmt: str, media_type: str) -> None:
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": fmt, "width": 100}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    if fmt == "JSON":
        doc = response.json()
        assert doc["dims"] == ["bands", "y", "x"]
        assert np.asarray(doc["data"], dtype=float).shape == (1, 100, 100)
    else:
        with rasterio.open(io.BytesIO(response.content)) as src:
            assert (src.width, src.height) == (100, 100)


def test_time_dimension_becomes_one_band_per_date(
    client: TestClient, demo_catalog: Catalog
) -> None:
    body = copy.deepcopy(first_execute_example())
    body["process_graph"] = body["process_graph"]["args"]["imagery"]  # NDVI, no min_time
    body["output"] = {"format": "GTiff"}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    collection = demo_catalog.get("S2_L2A_T32TPS_20M")
    days = sorted(
        {i.datetime.date() for i in collection.items if JANUARY[0] <= i.datetime <= JANUARY[1]}
    )
    with rasterio.open(io.BytesIO(response.content)) as src:
        assert src.count == len(days)
        assert [d[:10] for d in src.descriptions] == [d.isoformat() for d in days]


def test_pixel_limit_is_413_pointing_to_batch(client: TestClient) -> None:
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": "GTiff", "width": 20000, "height": 20000}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 413
    assert "batch" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        pytest.param({}, 2001, "process graph", id="no-graph"),
        pytest.param(
            {"process_graph": {"process_id": "nope", "args": {}}},
            2101,
            "nope",
            id="unknown-process",
        ),
        pytest.param(
            {"process_graph": {"process_id": "get_data", "args": {"data_id": "NOPE"}}},
            1201,
            "NOPE",
            id="unknown-collection",
        ),
        pytest.param(
            {
                "process_graph": {
                    "process_id": "min_time",
                    "args": {"imagery": {"product_id": "S2_L2A_T32TPS_20M"}},
                },
                "output": {"format": "BMP"},
            },
            3001,
            "BMP",
            id="unknown-format",
        ),
    ],
)
def test_bad_requests_get_documented_errors(
    client: TestClient, body: dict[str, Any], code: int, words: str
) -> None:
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert words.lower() in response.json()["message"].lower()


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/jobs/execute",
        content=b'{"process_graph": NaN}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message"}


def test_unknown_resampling_is_400_listing_the_choices(client: TestClient) -> None:
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": "GTiff", "resampling": "lanczos"}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 400
    assert "bilinear" in response.json()["message"] and "nearest" in response.json()["message"]
