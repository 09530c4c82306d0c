"""XYZ, TMS and TileJSON over HTTP on the demo catalog, checked against the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from ondemand.engine import CACHED, Engine
from ondemand.layer import Layer
from ondemand.settings import Settings
from ondemand.tiles import tile_matrix_set, tile_window
from tests.support.layers import min_ndvi_layer, ndvi_series_layer, read_tif, series_graph
from tests.support.seed import use_case_1_job

WM = morecantile.tms.get("WebMercatorQuad")
CENTRE = (11.118, 46.673)  # inside the seed job's bbox


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog, demo_data_dir: Path) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings(data_dir=demo_data_dir))
    yield eng
    eng.close()


def publish(client: TestClient, graph: dict[str, Any], kind: str) -> dict[str, Any]:
    job = client.post("/jobs", json={"process_graph": graph, "title": "t"}).json()
    assert client.post(f"/jobs/{job['job_id']}/on_demand").status_code == 204
    response = client.post("/services", json={"job_id": job["job_id"], "type": kind, "args": {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def min_service(client: TestClient) -> dict[str, Any]:
    return publish(client, use_case_1_job()["process_graph"], "xyz")


@pytest.fixture(scope="module")
def series_service(client: TestClient) -> dict[str, Any]:
    return publish(client, series_graph(), "tms")


@pytest.fixture(scope="module")
def min_layer(engine: Engine) -> Layer:
    return min_ndvi_layer(engine)


@pytest.fixture(scope="module")
def series_layer(engine: Engine) -> Layer:
    return ndvi_series_layer(engine)


def png_alpha(content: bytes) -> np.ndarray:
    with rasterio.MemoryFile(content) as mem, mem.open() as src:
        assert src.driver == "PNG" and src.count == 4
        return src.read(4)


def sid(service: dict[str, Any]) -> str:
    return str(service["service_id"])


@pytest.mark.parametrize("z", [10, 13])
def test_xyz_png_and_tif(
    client: TestClient, engine: Engine, min_service: dict[str, Any], min_layer: Layer, z: int
) -> None:
    t = WM.tile(*CENTRE, z)
    base = f"/services/{sid(min_service)}"
    png = client.get(f"{min_service['service_url']}/{z}/{t.x}/{t.y}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    expected = engine.evaluate(min_layer.compiled, tile_window(WM, z, t.x, t.y), policy=CACHED)
    mask = np.ma.getmaskarray(expected.data[0, 0])
    np.testing.assert_array_equal(png_alpha(png.content) == 0, mask)
    geotiff = client.get(f"{base}/tiles/WebMercatorQuad/{z}/{t.x}/{t.y}.tif")
    assert geotiff.headers["content-type"].startswith("image/tiff")
    np.testing.assert_array_equal(
        read_tif(geotiff.content)[0].filled(np.nan), expected.data[0, 0].filled(np.nan)
    )
    assert png.headers["cache-control"].startswith("public, max-age=")
    assert png.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    bbox = [float(v) for v in png.headers["content-bbox"].split(",")]
    assert bbox == list(WM.xy_bounds(t))


def test_native_and_crs84_tiles(client: TestClient, min_service: dict[str, Any]) -> None:
    base = f"/services/{sid(min_service)}/tiles"
    native = client.get(f"{base}/native/2/1/1.tif")
    assert native.status_code == 200
    assert native.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/32632>"
    with rasterio.MemoryFile(native.content) as mem, mem.open() as src:
        assert src.crs.to_epsg() == 32632 and src.res == (20.0, 20.0)
    c = morecantile.tms.get("WorldCRS84Quad").tile(*CENTRE, 12)
    wgs = client.get(f"{base}/WGS84/12/{c.x}/{c.y}.png")
    assert wgs.status_code == 200 and (png_alpha(wgs.content) == 255).any()
    assert wgs.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_etag_304_and_cache_hit(client: TestClient, min_service: dict[str, Any]) -> None:
    t = WM.tile(*CENTRE, 12)
    url = f"{min_service['service_url']}/12/{t.x}/{t.y}.png"
    first = client.get(url)
    second = client.get(url)
    assert first.headers["etag"] == second.headers["etag"] and first.content == second.content
    not_modified = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == first.headers["etag"]
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    styled = client.get(url + "?colormap=viridis&rescale=0,1")
    assert styled.status_code == 200 and styled.headers["etag"] != first.headers["etag"]


def test_draft_tms_url(client: TestClient, min_service: dict[str, Any]) -> None:
    """poc.md use case 2, step 6, verbatim path form: date, XYZ rows, trailing slash, bands=1."""
    url = f"/services/{sid(min_service)}/tms/2017-01-01/12/2232/2668/?bands=1"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert (png_alpha(response.content) == 0).all()  # far from the job's area: empty
    t = WM.tile(*CENTRE, 12)
    inside = client.get(f"/services/{sid(min_service)}/tms/2017-01-01/12/{t.x}/{t.y}")
    xyz = client.get(f"/services/{sid(min_service)}/xyz/12/{t.x}/{t.y}.png")
    assert inside.content == xyz.content
    short = client.get(f"/services/{sid(min_service)}/tms/12/{t.x}/{t.y}.png")
    assert short.content == xyz.content


def test_time_series_dates(
    client: TestClient, engine: Engine, series_service: dict[str, Any], series_layer: Layer
) -> None:
    assert series_layer.times is not None
    t = WM.tile(*CENTRE, 12)
    base = f"/services/{sid(series_service)}"
    latest = client.get(f"{base}/xyz/12/{t.x}/{t.y}.tif")
    by_word = client.get(f"{base}/xyz/12/{t.x}/{t.y}.tif?time={{Time}}")
    assert latest.content == by_word.content
    window = tile_window(WM, 12, t.x, t.y, (series_layer.times[1],))
    expected = engine.evaluate(series_layer.compiled, window, policy=CACHED).data[0, 0]
    for url in (
        f"{base}/xyz/12/{t.x}/{t.y}.tif?time={series_layer.times[1].date()}",
        f"{base}/tms/2017-01-20/12/{t.x}/{t.y}.tif",  # latest on or before: 2017-01-14
    ):
        got = read_tif(client.get(url).content)[0]
        np.testing.assert_array_equal(got.filled(np.nan), expected.filled(np.nan))


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        pytest.param("/xyz/25/0/0.png", 400, 10003, id="zoom-too-high"),
        pytest.param("/xyz/-1/0/0.png", 400, 10003, id="negative-zoom"),
        pytest.param("/xyz/2/4/0.png", 400, 10003, id="column-past-end"),
        pytest.param("/xyz/2/0/4.png", 400, 10003, id="row-past-end"),
        pytest.param(f"/xyz/12/{2**31}/0.png", 400, 10003, id="huge-column"),
        pytest.param(f"/xyz/12/0/{2**31}.png", 400, 10003, id="huge-row"),
        pytest.param(f"/xyz/{2**31}/0/0.png", 400, 10003, id="huge-zoom"),
        pytest.param("/xyz/3/-1/0.png", 400, 10003, id="negative-column"),
        pytest.param("/tiles/native/3/0/0.png", 400, 10003, id="native-zoom"),
        pytest.param("/xyz/a/0/0.png", 400, 2103, id="not-integer"),
        pytest.param("/xyz/3/0/0.webp", 400, 3001, id="format"),
        pytest.param("/tiles/EPSG:2056/3/0/0.png", 400, 2103, id="unknown-tms"),
        pytest.param("/xyz/3/0/0.png?time=2016-01-01", 400, 2103, id="unknown-date"),
        pytest.param("/xyz/3/0/0.png?time=garbage", 400, 2103, id="invalid-date"),
        pytest.param("/tms/2016-12-31/3/0/0", 400, 2103, id="date-before-first"),
        pytest.param("/tms/31-12-2016/3/0/0", 400, 2103, id="tms-invalid-date"),
        pytest.param("/xyz/3/0/0.png?rescale=1,0", 400, 3003, id="rescale"),
        pytest.param("/xyz/3/0/0.png?colormap=nope", 400, 3003, id="colormap"),
        pytest.param("/xyz/3/0/0.png?bands=7", 400, 3003, id="bands"),
    ],
)
def test_errors_are_json(
    client: TestClient, series_service: dict[str, Any], path: str, status: int, code: int
) -> None:
    response = client.get(f"/services/{sid(series_service)}{path}")
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"]


@pytest.mark.parametrize("path", ["/services/nope/xyz/3/0/0.png", "/services/nope/tilejson.json"])
def test_unknown_service_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.json()["code"] == 404


def test_stopped_service_is_404(client: TestClient) -> None:
    service = publish(client, use_case_1_job()["process_graph"], "xyz")
    assert client.delete(f"/jobs/{service['job_id']}/on_demand").status_code == 204
    assert client.get(f"{service['service_url']}/3/0/0.png").status_code == 404


def test_tilejson(client: TestClient, min_service: dict[str, Any], min_layer: Layer) -> None:
    doc = client.get(f"/services/{sid(min_service)}/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
    assert (doc["minzoom"], doc["maxzoom"]) == (10, 13)
    np.testing.assert_allclose(doc["bounds"], min_layer.bounds_wgs84)
    west, south, east, north = doc["bounds"]
    assert west < doc["center"][0] < east and south < doc["center"][1] < north
    assert "times" not in doc and "?" not in doc["tiles"][0]
    t = WM.tile(*CENTRE, 12)
    url = doc["tiles"][0].format(z=12, x=t.x, y=t.y)
    assert url.startswith("http://testserver/services/")
    assert (
        client.get(url).content
        == client.get(f"{min_service['service_url']}/12/{t.x}/{t.y}.png").content
    )


def test_tilejson_time_series_and_native(
    client: TestClient, series_service: dict[str, Any], series_layer: Layer
) -> None:
    assert series_layer.times is not None
    doc = client.get(f"{series_service['service_url']}/tilejson.json?colormap=viridis").json()
    days = [t[:10] for t in doc["times"]]
    assert days == [t.date().isoformat() for t in series_layer.times]
    assert doc["default_time"] == doc["times"][-1]
    assert f"time={doc['times'][-1]}" in doc["tiles"][0] and "colormap=viridis" in doc["tiles"][0]
    t = WM.tile(*CENTRE, 12)
    assert client.get(doc["tiles"][0].format(z=12, x=t.x, y=t.y)).status_code == 200
    native = client.get(f"/services/{sid(series_service)}/native/tilejson.json").json()
    assert native["tile_matrix_set"] == "UTM32N-20m"
    assert (native["minzoom"], native["maxzoom"]) == (0, 2)
    assert "/tiles/UTM32N-20m/{z}/{x}/{y}.png" in native["tiles"][0]
    tms = tile_matrix_set(series_layer, "native")
    assert tms.id == "UTM32N-20m"
