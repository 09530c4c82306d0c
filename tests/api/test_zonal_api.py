"""The draft's "Retrieval of time series" request, verbatim, against the demo catalog.

A GeoJSON polygon is uploaded first (as in the draft's use case 3); the GeoPackage
answer is read back with pyogrio and its values checked against rasterstats on each
demo source file (band 8, nodata 0, scale 0.0001) with the polygon reprojected by pyproj.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from rasterstats import zonal_stats
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from tests.support.gdal import ogrinfo_strict
from tests.support.polygons import NAME, POLYGON
from tests.support.seed import zonal_draft_request as draft_request


@pytest.fixture(scope="module")
def expected(demo_catalog: Catalog) -> dict[str, float]:
    """Mean band 8 reflectance under the polygon per date, by rasterstats on each file."""
    collection = demo_catalog.get("Sentinel2-L1C")
    to_utm = Transformer.from_crs("EPSG:4326", collection.crs.to_wkt(), always_xy=True)
    ring = np.asarray(POLYGON["geometry"]["coordinates"][0])  # type: ignore[index]
    xs, ys = to_utm.transform(ring[:, 0], ring[:, 1])
    polygon = shapely.Polygon(np.column_stack([xs, ys]))
    out = {}
    for item in collection.items:
        if item.datetime.month == 1 and item.datetime.year == 2017:
            stats = zonal_stats([polygon], item.assets["B08"].href, nodata=0, stats=["mean"])
            out[item.datetime.isoformat()] = stats[0]["mean"] * 0.0001
    assert len(out) == 3
    return out


def ours(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["date"]: r["B08_mean"] for r in rows if r["source"] == NAME}


def test_draft_example_verbatim_gives_a_geopackage(
    client: TestClient, uploaded: None, expected: dict[str, float], tmp_path: Path
) -> None:
    response = client.post("/jobs/execute", json=draft_request())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "result.gpkg"
    path.write_bytes(response.content)
    ogrinfo_strict(path)
    meta, _, wkb, fields = pyogrio.raw.read(path)
    assert meta["crs"] == "EPSG:4326"
    names = list(meta["fields"])
    assert names[:2] == ["source", "feature"] and names[-2:] == ["date", "B08_mean"]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*fields, strict=True)]
    mine = [(r, g) for r, g in zip(rows, shapely.from_wkb(wkb), strict=True)
            if r["source"] == NAME]
    assert len(mine) == 3
    for row, geometry in mine:
        assert row["name"] == "field A" and row["crop"] == 3
        assert geometry.equals(shapely.MultiPolygon([shapely.geometry.shape(POLYGON["geometry"])]))
        stamp = np.datetime64(row["date"], "s").astype(str) + "+00:00"
        assert row["B08_mean"] == pytest.approx(expected[stamp], abs=1e-6)


def as_rows(fmt: str, content: bytes) -> list[dict[str, Any]]:
    if fmt == "GeoJSON":
        doc = json.loads(content)
        return [f["properties"] for f in doc["features"]]
    if fmt == "CSV":
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        return [{**r, "B08_mean": float(r["B08_mean"]) if r["B08_mean"] else None}
                for r in rows]
    doc = json.loads(content)
    return [dict(zip(doc["columns"], row, strict=True)) for row in doc["rows"]]


@pytest.mark.parametrize("fmt", ["GeoJSON", "CSV", "JSON"])
def test_other_table_formats(client: TestClient, uploaded: None, expected: dict[str, float],
                             fmt: str) -> None:
    body = draft_request()
    body["output"] = {"format": fmt}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    got = ours(as_rows(fmt, response.content))
    want = {k.replace("+00:00", "Z"): v for k, v in expected.items()}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6)


def test_inline_geojson_needs_no_upload(client: TestClient, expected: dict[str, float]) -> None:
    body = draft_request()
    body["process_graph"]["args"]["regions"] = {"type": "FeatureCollection",
                                                "features": [POLYGON]}
    body["output"] = {"format": "JSON"}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    rows = as_rows("JSON", response.content)
    assert [r["source"] for r in rows] == ["inline"] * 3
    for row in rows:
        assert row["B08_mean"] == pytest.approx(
            expected[row["date"].replace("Z", "+00:00")], abs=1e-6)


BAD = {
    "raster-format": ({"output": {"format": "GTiff"}}, 400, 3001),
    "unknown-func": ({"func": "mode"}, 400, 2103),
    "missing-file": ({"regions": "/users/me/files/nope.geojson"}, 404, 404),
    "other-user": ({"regions": "/users/bob/files/x.geojson"}, 404, 404),
    "traversal": ({"regions": "/users/me/files/../../jobs.sqlite"}, 400, 1400),
    "coordinates-1e308": ({"regions": {"type": "Polygon", "coordinates": [
        [[-1e308, -1e308], [1e308, -1e308], [1e308, 1e308], [-1e308, -1e308]]]}}, 400, 602),
    "longitude-500": ({"regions": {"type": "Polygon", "coordinates": [
        [[500, 45], [501, 45], [501, 46], [500, 45]]]}}, 400, 602),
    "utm-far-away": ({"regions": {
        "type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:32632"}},
        "coordinates": [[[1e12, 5e6], [1e12 + 10, 5e6], [1e12, 5e6 + 10], [1e12, 5e6]]]}},
        400, 602),
}


@pytest.mark.parametrize(("change", "status", "code"), BAD.values(), ids=BAD.keys())
def test_bad_requests(client: TestClient, uploaded: None, change: dict[str, Any], status: int,
                      code: int) -> None:
    body = draft_request()
    if "output" in change:
        body["output"] = change["output"]
    else:
        body["process_graph"]["args"].update(change)
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_a_raster_graph_cannot_be_written_as_a_table(client: TestClient) -> None:
    body = draft_request()
    body["process_graph"] = body["process_graph"]["args"]["imagery"]
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 400
    assert "GPKG" in response.json()["message"]


def test_unreadable_polygon_file_names_no_server_path(client: TestClient) -> None:
    """GDAL's message names the file by its full path; the answer names it as the user did."""
    import zipfile

    name = "broken.zip"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("a.shp", b"not a shapefile")
        out.writestr("a.shx", b"nope")
    assert client.put(f"/files/me/{name}", content=archive.getvalue()).status_code == 204
    try:
        body = draft_request()
        body["process_graph"]["args"]["regions"] = f"/users/me/files/{name}"
        response = client.post("/jobs/execute", json=body)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert name in message and "/tmp" not in message and "/files/local" not in message
    finally:
        client.delete(f"/files/me/{name}")
