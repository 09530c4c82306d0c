"""The real ``openeo`` Python client against a live server: discovery, metadata, NDVI,
batch jobs and web services, with values checked against numpy, GDAL and rasterstats."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
import rasterio
import rasterio.warp
import requests
from rasterio.io import MemoryFile

from ondemand.catalog import Catalog
from tests.openeo.conftest import ALICE, COLLECTIONS, connect

openeo = pytest.importorskip("openeo")

EXTENT = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}
"""Inside path/row 013032; 014032 covers its western part on 2018-03-11."""
DATES = ["2018-01-01", "2018-04-25"]
"""Five dates of one scene each (2018-04-28 has two scenes: outside on purpose)."""


def ndvi_max(con: Any) -> Any:
    """The client's NDVI max-time cube of the test extent and dates."""
    cube = con.load_collection(COLLECTIONS[0], spatial_extent=EXTENT, temporal_extent=DATES)
    return cube.ndvi().max_time()


def _read(path: Path) -> tuple[np.ma.MaskedArray, Any]:
    with rasterio.open(path) as ds:
        return ds.read(1, masked=True), ds


def _centre_lookup(shape: tuple[int, int], dst: Any, raw: np.ndarray, src: Any) -> np.ndarray:
    """The source pixel under each output pixel centre (nearest neighbour), 0 outside."""
    rows, cols = np.meshgrid(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5,
                             indexing="ij")
    xs, ys = dst * (cols, rows)
    col, row = ~src * (xs, ys)
    col, row = np.floor(col).astype(int), np.floor(row).astype(int)
    inside = (col >= 0) & (col < raw.shape[1]) & (row >= 0) & (row < raw.shape[0])
    out = np.zeros(shape)
    out[inside] = raw[row[inside], col[inside]]
    return out


def numpy_ndvi_max(shared_data: Path, shape: tuple[int, int],
                   transform: Any) -> np.ma.MaskedArray:
    """NDVI max over the dates, from the source COGs with numpy only."""
    catalog = Catalog.load([shared_data / COLLECTIONS[0] / "collection.json"])
    collection = catalog.get(COLLECTIONS[0])
    by_day: dict[Any, list[Any]] = defaultdict(list)
    for item in collection.items:
        if DATES[0] <= item.datetime.date().isoformat() < DATES[1]:
            by_day[item.datetime.date()].append(item)
    assert len(by_day) == 5 and all(len(v) == 1 for v in by_day.values())
    layers = []
    for (item,) in by_day.values():
        bands = {}
        for name in ("B4", "B5"):
            with rasterio.open(item.assets[name].href) as src:
                bands[name] = _centre_lookup(shape, transform, src.read(1), src.transform)
        red, nir = bands["B4"], bands["B5"]
        with np.errstate(all="ignore"):
            ndvi = (nir - red) / (nir + red)
        layers.append(np.ma.masked_where((red == 0) | (nir == 0) | (nir + red == 0), ndvi))
    best = np.ma.stack(layers).max(axis=0)
    rows, cols = np.meshgrid(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5,
                             indexing="ij")
    xs, ys = transform * (cols, rows)
    lons, lats = rasterio.warp.transform("EPSG:32618", "EPSG:4326", xs.ravel(), ys.ravel())
    lon, lat = np.reshape(lons, shape), np.reshape(lats, shape)
    outside = ((lon < EXTENT["west"]) | (lon > EXTENT["east"])
               | (lat < EXTENT["south"]) | (lat > EXTENT["north"]))
    return np.ma.masked_where(outside, best)


def test_connect_finds_api_1_2_by_version_discovery(server: dict[str, Any],
                                                     checked: list[str]) -> None:
    con = connect(server, checked, None)
    assert con.root_url.rstrip("/").endswith("/openeo/1.2")
    assert con.capabilities().api_version() == "1.2.0"
    assert con.capabilities().supports_endpoint("/jobs/{job_id}/results", "POST")


def test_collections_are_described_with_dimensions_and_common_names(alice: Any) -> None:
    assert alice.list_collection_ids() == list(COLLECTIONS)
    landsat = alice.describe_collection(COLLECTIONS[0])
    dims = landsat["cube:dimensions"]
    assert set(dims) == {"x", "y", "t", "bands"}
    assert dims["bands"]["values"] == ["B2", "B3", "B4", "B5", "BQA"]
    assert dims["x"]["reference_system"] == 32618
    assert len(dims["t"]["values"]) == 17  # 19 scenes, two dates with two each
    common = {b["name"]: b.get("common_name") for b in landsat["summaries"]["eo:bands"]}
    assert common["B4"] == "red" and common["B5"] == "nir"
    cube = alice.load_collection(COLLECTIONS[1])
    assert cube.metadata.band_dimension.band_name("nir") == "nir"
    assert cube.metadata.temporal_dimension.name == "t"


def test_processes_are_listed_with_their_parameters(alice: Any) -> None:
    processes = {p["id"]: p for p in alice.list_processes()}
    for pid in ("load_collection", "ndvi", "reduce_dimension", "max", "save_result"):
        assert pid in processes
    assert [p["name"] for p in processes["reduce_dimension"]["parameters"]][:3] == [
        "data", "reducer", "dimension"]
    assert alice.describe_process("ndvi")["id"] == "ndvi"


def test_ndvi_max_time_download_equals_numpy(alice: Any, shared_data: Path,
                                             tmp_path: Path) -> None:
    target = tmp_path / "ndvi.tif"
    ndvi_max(alice).download(target)
    got, ds = _read(target)
    assert ds.crs.to_epsg() == 32618 and ds.dtypes[0] == "float32"
    expected = numpy_ndvi_max(shared_data, got.shape, ds.transform)
    assert expected.count() > 100
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    np.testing.assert_allclose(got.compressed(), expected.compressed(), rtol=0, atol=1e-6)


def test_batch_job_results_equal_the_synchronous_result(alice: Any, tmp_path: Path) -> None:
    ndvi_max(alice).download(tmp_path / "sync.tif")
    job = ndvi_max(alice).execute_batch(title="ndvi max", max_poll_interval=1)
    assert job.status() == "finished"
    files = job.get_results().download_files(tmp_path / "batch")
    tifs = [f for f in files if f.suffix == ".tif"]
    assert len(tifs) == 1
    sync, sync_ds = _read(tmp_path / "sync.tif")
    batch, batch_ds = _read(tifs[0])
    assert batch_ds.transform == sync_ds.transform and batch_ds.crs == sync_ds.crs
    np.testing.assert_array_equal(np.ma.getmaskarray(batch), np.ma.getmaskarray(sync))
    np.testing.assert_array_equal(batch.compressed(), sync.compressed())
    messages = [entry["message"] for entry in job.logs()]
    assert "Batch run queued" in messages and any("finished" in m for m in messages)


def test_other_users_do_not_see_a_job(alice: Any, bob: Any) -> None:
    job = alice.create_job(ndvi_max(alice).flat_graph(), title="private")
    with pytest.raises(openeo.rest.OpenEoApiError) as raised:
        bob.job(job.job_id).describe()
    assert raised.value.http_status_code == 404 and raised.value.code == "JobNotFound"
    assert job.job_id not in [j["id"] for j in bob.list_jobs()]
    job.delete()


def _tile(url: str, zoom: int) -> np.ndarray:
    lon = (EXTENT["west"] + EXTENT["east"]) / 2
    lat = (EXTENT["south"] + EXTENT["north"]) / 2
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
    response = requests.get(url.format(z=tile.z, x=tile.x, y=tile.y), timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    with MemoryFile(response.content) as mem, mem.open() as png:
        return png.read()


def test_xyz_service_serves_non_blank_tiles(alice: Any) -> None:
    service = ndvi_max(alice).tiled_viewing_service(type="XYZ", title="NDVI max")
    described = service.describe_service()
    assert described["type"] == "XYZ" and described["enabled"] is True
    assert "{z}" in described["url"]
    pixels = _tile(described["url"], 8)
    alpha = pixels[-1]
    assert (alpha > 0).mean() > 0.5
    assert len(np.unique(pixels[0][alpha > 0])) > 10
    service.delete_service()


def test_wmts_service_opens_in_gdal(alice: Any) -> None:
    graph = ndvi_max(alice).flat_graph()
    service = alice.create_service(graph, type="WMTS")
    url = service.describe_service()["url"]
    assert url.endswith("WMTSCapabilities.xml")
    with rasterio.Env(GDAL_ENABLE_WMS_CACHE="NO", GDAL_HTTP_TIMEOUT="60"):
        with rasterio.open(f"WMTS:{url}") as ds:
            assert ds.crs is not None and ds.count >= 1
            pixels = ds.read(out_shape=(ds.count, 64, 64))
    assert pixels.any() and len(np.unique(pixels)) > 10
    service.delete_service()


def test_aggregate_spatial_csv_equals_rasterstats(alice: Any, shared_data: Path,
                                                  tmp_path: Path) -> None:
    import csv

    import pyogrio.raw
    import shapely
    from pyproj import Transformer
    from rasterstats import zonal_stats

    polygons = shared_data / COLLECTIONS[0] / "nycd.gpkg"
    _, _, wkb, _ = pyogrio.raw.read(polygons)
    utm = list(shapely.from_wkb(wkb))
    to_wgs84 = Transformer.from_crs(32618, 4326, always_xy=True)

    def wgs84(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))

    features = [
        {"type": "Feature", "properties": {"district": i},
         "geometry": shapely.geometry.mapping(shapely.transform(g, wgs84))}
        for i, g in enumerate(utm)
    ]
    day = "2018-01-31"  # one scene (013032) holds every district that day
    cube = alice.load_collection(COLLECTIONS[0], temporal_extent=[day, "2018-02-01"],
                                 bands=["B4"])
    cube.aggregate_spatial({"type": "FeatureCollection", "features": features},
                           "mean").download(tmp_path / "zonal.csv")
    with (tmp_path / "zonal.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == len(utm)
    value_key = next(k for k in rows[0] if "mean" in k.lower() or k == "B4")
    index_key = next((k for k in rows[0] if k in ("feature_index", "feature", "district")),
                     None)
    item = next(i for i in Catalog.load([shared_data / COLLECTIONS[0] / "collection.json"])
                .get(COLLECTIONS[0]).items if i.datetime.date().isoformat() == day)
    expected = [s["mean"] for s in zonal_stats(utm, item.assets["B4"].href, nodata=0,
                                               stats=["mean"])]
    compared = 0
    for position, row in enumerate(rows):
        feature = int(row[index_key]) if index_key else position
        if expected[feature] is None:
            assert row[value_key] in ("", "nan", "NaN", "null", "None")
            continue
        assert float(row[value_key]) == pytest.approx(expected[feature], abs=1e-6)
        compared += 1
    assert compared > 40


def test_every_response_conformed_to_the_spec(alice: Any, checked: list[str]) -> None:
    alice.list_jobs()
    alice.list_services()
    assert any(c.startswith("GET /collections/") for c in checked)
    assert any(c.startswith("POST /jobs ") for c in checked)
    assert len(checked) > 20


def test_account_and_files_as_the_guide_shows(alice: Any, tmp_path: Path) -> None:
    assert alice.describe_account()["user_id"] == ALICE[0]
    source = tmp_path / "fields.geojson"
    source.write_text('{"type": "FeatureCollection", "features": []}')
    uploaded = alice.upload_file(source, target="guide/fields.geojson")
    assert str(uploaded.path) == "guide/fields.geojson"
    assert "guide/fields.geojson" in [str(f.path) for f in alice.list_files()]
    back = uploaded.download(tmp_path / "back.geojson")
    assert back.read_text() == source.read_text()
    uploaded.delete()
    assert "guide/fields.geojson" not in [str(f.path) for f in alice.list_files()]
