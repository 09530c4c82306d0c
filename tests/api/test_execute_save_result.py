"""``POST /jobs/execute`` encodes a graph ending in ``save_result`` in its format and options."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterstats import zonal_stats
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from tests.support.polygons import NAME, POLYGON

EXTENT = {"west": 652000, "east": 654000, "south": 5179000, "north": 5181000, "crs": 32632}


def graph(fmt: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Max NDVI of January 2017 over a small box, saved as ``fmt``."""
    save: dict[str, Any] = {"data": {"from_node": "max"}, "format": fmt}
    if options is not None:
        save["options"] = options
    return {"process_graph": {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "S2_L2A_T32TPS_20M", "spatial_extent": EXTENT,
            "temporal_extent": ["2017-01-01", "2017-01-31"]}},
        "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"},
                                                     "red": "B04", "nir": "B8A"}},
        "max": {"process_id": "reduce_dimension", "arguments": {
            "data": {"from_node": "ndvi"}, "dimension": "t",
            "reducer": {"process_graph": {"m": {"process_id": "max", "arguments": {
                "data": {"from_parameter": "data"}}, "result": True}}}}},
        "save": {"process_id": "save_result", "arguments": save, "result": True},
    }}


@pytest.fixture(scope="module")
def reference(client: TestClient) -> np.ma.MaskedArray:
    """The same graph without save_result, as the default GeoTIFF."""
    doc = graph("GTiff")
    del doc["process_graph"]["save"]
    doc["process_graph"]["max"]["result"] = True
    response = client.post("/jobs/execute", json=doc)
    assert response.status_code == 200, response.text
    with rasterio.open(io.BytesIO(response.content)) as src:
        return src.read(1, masked=True)


@pytest.mark.parametrize(
    ("fmt", "media_type", "driver"),
    [("PNG", "image/png", "PNG"), ("png", "image/png", "PNG"),
     ("JPEG", "image/jpeg", "JPEG"), ("image/png", "image/png", "PNG")],
)
def test_picture_formats_of_save_result_are_used(
    client: TestClient, fmt: str, media_type: str, driver: str
) -> None:
    response = client.post("/jobs/execute", json=graph(fmt))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    with rasterio.open(io.BytesIO(response.content)) as src:
        assert src.driver == driver


def test_save_result_wins_over_the_request_output(client: TestClient) -> None:
    doc = graph("PNG")
    doc["output"] = {"format": "GTiff", "compress": "lzw"}
    response = client.post("/jobs/execute", json=doc)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].endswith('.png"')


def test_gtiff_options_of_save_result_are_applied(
    client: TestClient, reference: np.ma.MaskedArray
) -> None:
    response = client.post("/jobs/execute", json=graph("GTiff", {"compress": "lzw",
                                                                 "tiled": True}))
    assert response.status_code == 200, response.text
    with rasterio.open(io.BytesIO(response.content)) as src:
        assert src.compression is not None and src.compression.name == "lzw"
        assert src.block_shapes[0] == (256, 256)
        values = src.read(1, masked=True)
    np.testing.assert_array_equal(values.mask, reference.mask)
    np.testing.assert_array_equal(values.filled(0), reference.filled(0))


def test_cog_format_writes_a_cloud_optimized_geotiff(client: TestClient) -> None:
    response = client.post("/jobs/execute", json=graph("COG"))
    assert response.status_code == 200, response.text
    assert "cloud-optimized" in response.headers["content-type"]
    with rasterio.open(io.BytesIO(response.content)) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_json_format_holds_the_values(client: TestClient, reference: np.ma.MaskedArray) -> None:
    response = client.post("/jobs/execute", json=graph("JSON"))
    assert response.status_code == 200, response.text
    doc = json.loads(response.content)
    values = np.asarray(doc["data"], dtype=object)[0]
    assert values.shape == reference.shape
    valid = ~reference.mask
    np.testing.assert_allclose(values[valid].astype(float), reference.data[valid], rtol=1e-6)


@pytest.mark.parametrize("fmt", ["Zarr", "BMP"])
def test_unknown_format_is_400_naming_the_formats_offered(client: TestClient, fmt: str) -> None:
    response = client.post("/jobs/execute", json=graph(fmt))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 3001
    assert fmt in body["message"]
    for offered in ("GTiff", "COG", "PNG", "JPEG", "JSON", "GeoJSON", "CSV", "GPKG"):
        assert offered in body["message"]


def test_a_picture_option_under_gtiff_is_refused(client: TestClient) -> None:
    response = client.post("/jobs/execute", json=graph("GTiff", {"colormap": "viridis"}))
    assert response.status_code == 400
    assert "colormap" in response.json()["message"]


def test_aggregate_spatial_saved_as_csv_matches_rasterstats(
    client: TestClient, uploaded: None, demo_catalog: Catalog
) -> None:
    collection = demo_catalog.get("Sentinel2-L1C")
    to_utm = Transformer.from_crs("EPSG:4326", collection.crs.to_wkt(), always_xy=True)
    ring = np.asarray(POLYGON["geometry"]["coordinates"][0])  # type: ignore[index]
    xs, ys = to_utm.transform(ring[:, 0], ring[:, 1])
    polygon = shapely.Polygon(np.column_stack([xs, ys]))
    expected = {}
    for item in collection.items:
        if item.datetime.month == 1 and item.datetime.year == 2017:
            stats = zonal_stats([polygon], item.assets["B08"].href, nodata=0, stats=["mean"])
            expected[item.datetime.isoformat()] = stats[0]["mean"] * 0.0001
    doc = {"process_graph": {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "Sentinel2-L1C", "temporal_extent": ["2017-01-01", "2017-02-01"],
            "bands": ["B08"]}},
        "agg": {"process_id": "aggregate_spatial", "arguments": {
            "data": {"from_node": "load"}, "geometries": f"/users/me/files/{NAME}",
            "reducer": {"process_graph": {"m": {"process_id": "mean", "arguments": {
                "data": {"from_parameter": "data"}}, "result": True}}}}},
        "save": {"process_id": "save_result", "result": True, "arguments": {
            "data": {"from_node": "agg"}, "format": "CSV"}},
    }}
    response = client.post("/jobs/execute", json=doc)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    got = {datetime.fromisoformat(r["date"].replace("Z", "+00:00")).isoformat(): float(r["B08"])
           for r in rows}
    assert set(got) == set(expected)
    for when, value in expected.items():
        assert got[when] == pytest.approx(value, abs=1e-6)  # float32 reflectance, as zonal
