"""User-defined processes with the real ``openeo`` client: stored through 1.2's
``/process_graphs`` (every answer validated against openapi.yaml), called from graphs by
id, their parameters bound from the call, and the result checked against numpy on the
source COGs. The same store seen through the draft's ``/process_graphs``."""

from __future__ import annotations

import time
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
from services.layers import RECHECK_SECONDS
from tests.openeo.conftest import ALICE, COLLECTIONS
from tests.support.landsat_ndvi import ndvi_on_grid

openeo = pytest.importorskip("openeo")

BBOX = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}
"""About 36 x 48 pixels of the (3 km) Landsat fixtures."""
DATES = ["2018-01-01", "2018-04-21"]
"""Four dates of one scene each: 01-06 (014031), 01-31, 04-05 (013032), 03-11 (014032)."""
DATA = {"from_parameter": "data"}
SCALED_NDVI_MAX = {
    "ndvi": {"process_id": "ndvi", "arguments": {"data": DATA}},
    "max": {"process_id": "reduce_dimension", "arguments": {
        "data": {"from_node": "ndvi"}, "dimension": "t",
        "reducer": {"process_graph": {"m": {"process_id": "max", "arguments": {"data": DATA},
                                            "result": True}}}}},
    "scale": {"process_id": "apply", "arguments": {
        "data": {"from_node": "max"},
        "process": {"process_graph": {"mul": {"process_id": "multiply", "arguments": {
            "x": {"from_parameter": "x"}, "y": {"from_parameter": "factor"}},
            "result": True}}}}, "result": True},
}
"""NDVI, its maximum over time, times ``factor``: the reducer's ``data`` is the reducer's
own parameter, ``factor`` inside apply's child graph is the user process's."""
PARAMETERS = [
    {"name": "data", "description": "A raster cube with red and nir", "schema":
        {"type": "object", "subtype": "datacube"}},
    {"name": "factor", "description": "Scale", "schema": {"type": "number"},
     "optional": True, "default": 1},
]


def numpy_ndvi_max(shared_data: Path, shape: tuple[int, int], transform: Any
                   ) -> np.ma.MaskedArray:
    """NDVI max over the dates on the output grid, from the source COGs with numpy."""
    collection = Catalog.load([shared_data / COLLECTIONS[0] / "collection.json"]).get(
        COLLECTIONS[0])
    items = [i for i in collection.items
             if DATES[0] <= i.datetime.date().isoformat() < DATES[1]]
    assert len(items) == 4
    best = ndvi_on_grid(items, shape, transform).max(axis=0)
    rows, cols = np.meshgrid(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5,
                             indexing="ij")
    xs, ys = transform * (cols, rows)
    lons, lats = rasterio.warp.transform(collection.crs, "EPSG:4326", xs.ravel(), ys.ravel())
    lon, lat = np.reshape(lons, shape), np.reshape(lats, shape)
    outside = ((lon < BBOX["west"]) | (lon > BBOX["east"])
               | (lat < BBOX["south"]) | (lat > BBOX["north"]))
    return np.ma.masked_where(outside, best)


def _read(path: Path) -> tuple[np.ma.MaskedArray, Any]:
    with rasterio.open(path) as ds:
        return ds.read(1, masked=True), ds.transform


@pytest.fixture()
def stored(alice: Any) -> Any:
    """Alice's ``scaled_ndvi_max``, stored with the client and deleted afterwards."""
    udp = alice.save_user_defined_process(
        "scaled_ndvi_max", SCALED_NDVI_MAX, parameters=PARAMETERS,
        summary="Scaled NDVI maximum", description="NDVI max over time times factor",
    )
    yield udp
    try:
        udp.delete()
    except openeo.rest.OpenEoApiError:
        pass


def test_store_list_describe_through_the_client(alice: Any, stored: Any) -> None:
    listed = {p["id"]: p for p in alice.list_user_defined_processes()}
    assert listed["scaled_ndvi_max"]["summary"] == "Scaled NDVI maximum"
    described = stored.describe()
    assert described["id"] == "scaled_ndvi_max"
    assert described["process_graph"] == SCALED_NDVI_MAX
    assert described["parameters"] == PARAMETERS


@pytest.mark.parametrize("namespace", ["user", None])
def test_a_graph_calling_it_downloads_numpy_values(
    alice: Any, stored: Any, shared_data: Path, tmp_path: Path, namespace: str | None
) -> None:
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=DATES,
                                 bands=["B4", "B5"])
    result = cube.process("scaled_ndvi_max", {"data": cube, "factor": 100},
                          namespace=namespace)
    result.download(tmp_path / "udp.tif", format="GTiff")
    got, transform = _read(tmp_path / "udp.tif")
    expected = numpy_ndvi_max(shared_data, got.shape, transform) * 100
    assert got.count() > 500
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    np.testing.assert_allclose(got.compressed(), expected.compressed(), rtol=1e-5, atol=1e-4)


def test_a_parameter_left_out_takes_its_default(alice: Any, stored: Any,
                                                tmp_path: Path) -> None:
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=DATES,
                                 bands=["B4", "B5"])
    cube.process("scaled_ndvi_max", {"data": cube}, namespace="user").download(
        tmp_path / "one.tif", format="GTiff")
    cube.process("scaled_ndvi_max", {"data": cube, "factor": 3}, namespace="user").download(
        tmp_path / "three.tif", format="GTiff")
    one, _ = _read(tmp_path / "one.tif")
    three, _ = _read(tmp_path / "three.tif")
    np.testing.assert_allclose(three.compressed(), one.compressed() * 3, rtol=1e-6)


def test_bad_calls_are_clear_400s(alice: Any, stored: Any) -> None:
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=DATES)
    cases = [
        (cube.process("scaled_ndvi_max", {"data": cube, "colour": 1}, namespace="user"),
         "colour"),
        (cube.process("no_such_udp", {"data": cube}, namespace="user"), "no_such_udp"),
    ]
    for graph, named in cases:
        with pytest.raises(openeo.rest.OpenEoApiError) as raised:
            graph.download(format="GTiff")
        assert raised.value.http_status_code == 400 and named in raised.value.message


def test_other_users_neither_see_nor_call_it(alice: Any, bob: Any, stored: Any) -> None:
    assert "scaled_ndvi_max" not in [p["id"] for p in bob.list_user_defined_processes()]
    with pytest.raises(openeo.rest.OpenEoApiError) as raised:
        bob.user_defined_process("scaled_ndvi_max").describe()
    assert raised.value.http_status_code == 404
    assert raised.value.code == "ProcessGraphNotFound"
    cube = bob.load_collection(COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=DATES)
    with pytest.raises(openeo.rest.OpenEoApiError) as refused:
        cube.process("scaled_ndvi_max", {"data": cube}, namespace="user").download(
            format="GTiff")
    assert refused.value.code == "ProcessUnsupported"


def test_the_draft_sees_the_same_store(alice: Any, stored: Any, server: dict[str, Any]
                                       ) -> None:
    url = server["url"]
    assert "scaled_ndvi_max" in requests.get(f"{url}/process_graphs", auth=ALICE,
                                             timeout=30).json()
    as_draft = requests.get(f"{url}/process_graphs/scaled_ndvi_max", auth=ALICE, timeout=30)
    assert as_draft.status_code == 200
    assert as_draft.json()["process_graph"] == SCALED_NDVI_MAX
    nested = {"process_id": "NDVI", "args": {"imagery": {"product_id": COLLECTIONS[0]},
                                             "red": "B4", "nir": "B5"}}
    created = requests.post(f"{url}/process_graphs", auth=ALICE, json=nested, timeout=30)
    assert created.status_code == 200, created.text
    graph_id = created.json()["process_graph_id"]
    shown = alice.get(f"/process_graphs/{graph_id}", expected_status=400)
    assert shown.json()["code"] == "ProcessGraphInvalid"
    assert "nested" in shown.json()["message"]
    listed = {p["id"] for p in alice.list_user_defined_processes()}
    assert {graph_id, "scaled_ndvi_max"} <= listed
    requests.delete(f"{url}/process_graphs/{graph_id}", auth=ALICE, timeout=30)


def test_put_refuses_bad_ids_and_predefined_names(alice: Any) -> None:
    with pytest.raises(openeo.rest.OpenEoApiError) as raised, pytest.warns(
        UserWarning, match="pre-defined"
    ):
        alice.save_user_defined_process("ndvi", SCALED_NDVI_MAX, parameters=PARAMETERS)
    assert raised.value.http_status_code == 400 and "predefined" in raised.value.message
    with pytest.raises(openeo.rest.OpenEoApiError) as invalid:
        alice.save_user_defined_process("bad-id", SCALED_NDVI_MAX, parameters=PARAMETERS)
    assert invalid.value.http_status_code == 400 and "invalid" in invalid.value.message


def test_put_checks_the_graph_of_a_process_with_parameters(alice: Any) -> None:
    broken = {"x": {"process_id": "no_such_process", "arguments": {"data": DATA},
                    "result": True}}
    with pytest.raises(openeo.rest.OpenEoApiError) as raised:
        alice.save_user_defined_process("broken", broken, parameters=PARAMETERS)
    assert raised.value.code == "ProcessUnsupported"
    assert "no_such_process" in raised.value.message


def _float_tile(url: str) -> np.ma.MaskedArray:
    """The float GeoTIFF of the zoom 8 tile over the box's centre."""
    lon, lat = (BBOX["west"] + BBOX["east"]) / 2, (BBOX["south"] + BBOX["north"]) / 2
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 8)
    response = requests.get(url.format(z=t.z, x=t.x, y=t.y), timeout=120)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as mem, mem.open() as tif:
        return tif.read(1, masked=True)


def test_a_web_service_follows_a_new_version_of_the_process(alice: Any) -> None:
    """Storing the process again (a new default) changes the service's tiles, with
    nothing done to the service (the layer checks its processes at most every second)."""
    name = "scaled_ndvi_max_served"
    udp = alice.save_user_defined_process(name, SCALED_NDVI_MAX, parameters=PARAMETERS)
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=DATES,
                                 bands=["B4", "B5"])
    service = cube.process(name, {"data": cube}, namespace="user").tiled_viewing_service(
        type="XYZ")
    url = service.describe_service()["url"]
    assert url.endswith(".png")
    url = url[: -len(".png")] + ".tif"
    before = _float_tile(url)
    tripled = [PARAMETERS[0], {**PARAMETERS[1], "default": 3}]
    alice.save_user_defined_process(name, SCALED_NDVI_MAX, parameters=tripled)
    time.sleep(RECHECK_SECONDS + 0.2)
    after = _float_tile(url)
    assert before.count() > 1000
    np.testing.assert_array_equal(np.ma.getmaskarray(after), np.ma.getmaskarray(before))
    np.testing.assert_allclose(after.compressed(), before.compressed() * 3, rtol=1e-6)
    service.delete_service()
    udp.delete()
