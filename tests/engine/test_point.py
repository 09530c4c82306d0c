"""The point / time-series endpoint, checked against the engine on independent windows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.transform import rowcol
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import CACHED, Engine
from ondemand.errors import OutOfBounds
from ondemand.grid import default_window
from ondemand.layer import Layer, make_layer
from ondemand.point import pixel_window
from ondemand.settings import Settings
from ondemand.window import Window
from tests.support.seed import use_case_1_job

POINTS = {
    "centre": (11.118, 46.673),
    "north-west": (11.0, 46.75),
    "south-east": (11.24, 46.59),
}
"""Points inside the seed job's bbox (UTM 32N 652000..672000, 5161000..5181000)."""


def series_graph() -> dict[str, Any]:
    return dict(use_case_1_job()["process_graph"]["args"]["imagery"])


def min_graph() -> dict[str, Any]:
    return dict(use_case_1_job()["process_graph"])


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog, demo_data_dir: Path) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings(data_dir=demo_data_dir))
    yield eng
    eng.close()


def publish(client: TestClient, graph: dict[str, Any]) -> str:
    job = client.post("/jobs", json={"process_graph": graph, "title": "point"}).json()
    response = client.post("/services", json={"job_id": job["job_id"], "type": "xyz"})
    assert response.status_code == 200, response.text
    return str(response.json()["service_id"])


@pytest.fixture(scope="module")
def series_service(client: TestClient) -> str:
    return publish(client, series_graph())


@pytest.fixture(scope="module")
def min_service(client: TestClient) -> str:
    return publish(client, min_graph())


@pytest.fixture(scope="module")
def full_series(engine: Engine) -> Cube:
    """The series job evaluated on its whole native extent (1000 x 1000 px, 3 dates)."""
    compiled = engine.compile(series_graph())
    cube = engine.evaluate(compiled, default_window(compiled), policy=CACHED)
    assert isinstance(cube, Cube)
    return cube


@pytest.fixture(scope="module")
def full_min(engine: Engine) -> Cube:
    compiled = engine.compile(min_graph())
    cube = engine.evaluate(compiled, default_window(compiled), policy=CACHED)
    assert isinstance(cube, Cube)
    return cube


def utm(lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True).transform(lon, lat)
    return float(x), float(y)


def expected(cube: Cube, lon: float, lat: float) -> list[float | None]:
    """The first band's value at every date of ``cube`` at the point (None where masked)."""
    row, col = rowcol(cube.transform, *utm(lon, lat))
    out: list[float | None] = []
    for t in range(cube.data.shape[0]):
        value = cube.data[t, 0, int(row), int(col)]
        out.append(None if value is np.ma.masked else float(value))
    return out


@pytest.mark.parametrize("name", sorted(POINTS))
def test_series_equals_the_whole_extent_evaluation(
    client: TestClient, series_service: str, full_series: Cube, name: str
) -> None:
    lon, lat = POINTS[name]
    response = client.get(f"/services/{series_service}/point", params={"lon": lon, "lat": lat})
    assert response.status_code == 200, response.text
    body = response.json()
    assert full_series.times is not None
    assert [e["time"][:10] for e in body["series"]] == ["2017-01-04", "2017-01-14", "2017-01-24"]
    assert [e["values"][0] for e in body["series"]] == expected(full_series, lon, lat)
    assert body["bands"] == list(full_series.bands)
    assert body["crs"] == "EPSG:32632"
    x, y = utm(lon, lat)
    left, bottom, right, top = body["pixel_bounds"]
    assert left <= x < right and bottom < y <= top and right - left == 20.0


@pytest.mark.parametrize("name", sorted(POINTS))
def test_series_equals_the_engine_on_the_one_pixel_window(
    client: TestClient, series_service: str, engine: Engine, name: str
) -> None:
    lon, lat = POINTS[name]
    body = client.get(
        f"/services/{series_service}/point", params={"lon": lon, "lat": lat}
    ).json()
    x, y = utm(lon, lat)
    # The native 20 m grid of the job starts at its bbox's top-left corner (652000, 5181000).
    left, top = 652000 + (x - 652000) // 20 * 20, 5181000 - (5181000 - y) // 20 * 20
    compiled = engine.compile(series_graph())
    window = Window(compiled.collections[0].crs, (left, top - 20, left + 20, top), 1, 1)
    cube = engine.evaluate(compiled, window, policy=CACHED)
    assert isinstance(cube, Cube) and cube.times is not None
    # A date without an item over this pixel is absent from the cube: no data (None).
    by_date = {
        t.isoformat().replace("+00:00", "Z"): float(v)
        for t, v in zip(cube.times, cube.data[:, 0, 0, 0].tolist(), strict=True)
    }
    assert by_date, "the pixel has data on some date"
    assert {e["time"]: e["values"][0] for e in body["series"]} == {
        e["time"]: by_date.get(e["time"]) for e in body["series"]
    }


def test_reduced_result_has_one_entry_without_time(
    client: TestClient, min_service: str, full_min: Cube
) -> None:
    lon, lat = POINTS["centre"]
    body = client.get(f"/services/{min_service}/point", params={"lon": lon, "lat": lat}).json()
    assert len(body["series"]) == 1 and body["series"][0]["time"] is None
    assert body["series"][0]["values"] == expected(full_min, lon, lat)


def test_minimum_of_the_series_is_the_reduced_value(
    client: TestClient, series_service: str, min_service: str
) -> None:
    lon, lat = POINTS["north-west"]
    params = {"lon": lon, "lat": lat}
    series = client.get(f"/services/{series_service}/point", params=params).json()
    reduced = client.get(f"/services/{min_service}/point", params=params).json()
    values = [e["values"][0] for e in series["series"] if e["values"][0] is not None]
    assert reduced["series"][0]["values"][0] == pytest.approx(min(values), abs=0)


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"lon": "0", "lat": "0"}, 400, "outside the layer's extent"),
        ({"lon": "11.1"}, 400, "'lat' is required"),
        ({"lon": "east", "lat": "46.6"}, 400, "not a number"),
        ({"lon": "11.1", "lat": "95"}, 400, "not a longitude, latitude"),
        ({"lon": "nan", "lat": "46.6"}, 400, "not a longitude, latitude"),
    ],
    ids=["outside", "missing", "not-a-number", "latitude", "nan"],
)
def test_bad_points(
    client: TestClient, series_service: str, params: dict[str, str], status: int, text: str
) -> None:
    response = client.get(f"/services/{series_service}/point", params=params)
    assert response.status_code == status
    assert text in response.json()["message"]


def test_unknown_service_is_404(client: TestClient) -> None:
    response = client.get("/services/nope/point", params={"lon": 11.1, "lat": 46.6})
    assert response.status_code == 404


@pytest.fixture(scope="module")
def series_layer(engine: Engine) -> Layer:
    return make_layer("s", "s", engine.compile(series_graph()))


def test_pixel_window_edges(series_layer: Layer) -> None:
    inverse = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lon, lat = inverse.transform(652000.5, 5180999.5)  # the top-left pixel
    window, _, _, column, row = pixel_window(series_layer, lon, lat)
    assert (column, row) == (0, 0)
    assert window.bounds == (652000.0, 5180980.0, 652020.0, 5181000.0)
    lon, lat = inverse.transform(671999.5, 5161000.5)  # the bottom-right pixel
    _, _, _, column, row = pixel_window(series_layer, lon, lat)
    assert (column, row) == (999, 999)
    lon, lat = inverse.transform(672000.5, 5161000.5)  # just east of the extent
    with pytest.raises(OutOfBounds):
        pixel_window(series_layer, lon, lat)
