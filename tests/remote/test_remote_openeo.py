"""openEO 1.2 on a STAC API's collections: collection metadata as the local catalog's (dates
not listed: they are searched), responses valid against openeo-api 1.2.0, and ``POST
/result`` giving the local results, with Earth Search's common band names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.settings import Settings
from services import create_app
from tests.remote.conftest import EARTH_SEARCH_ID, Remote
from tests.support.openeo_spec import validate_httpx
from tests.support.stacapi import EARTH_SEARCH_KEYS, ES_OFFSET, ES_SCALE

API = "/openeo/1.2"
USER = ("alice", "alice-password")
LANDSAT = "landsat8-ny-2018"
EARTH_LOCAL = "s2-l2a-29rkh"
LANDSAT_EXTENT = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}
LANDSAT_DATES = ["2018-01-01", "2018-04-25"]
EARTH_EXTENT = {"west": -11.55, "south": 24.7, "east": -11.45, "north": 24.8}


def _client(settings: Settings) -> TestClient:
    accounts = AccountFile(settings.data_dir / "users.json")
    accounts.add(*USER)
    return TestClient(create_app(settings))


def _login(client: TestClient) -> None:
    response = validate_httpx(client.get(f"{API}/credentials/basic", auth=USER))
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer basic//{response.json()['access_token']}"


@pytest.fixture(scope="module")
def clients(remote: Remote, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, TestClient]]:
    """The 1.2 API over the STAC API (``remote``) and over the local files (``local``)."""
    there = tmp_path_factory.mktemp("openeo-remote")
    here = tmp_path_factory.mktemp("openeo-local")
    remote_settings = Settings(data_dir=there, users_file=there / "users.json",
                               stac_apis=(remote.api_url,),
                               stac_collections=(LANDSAT, EARTH_SEARCH_ID))
    local_settings = Settings(data_dir=here, users_file=here / "users.json",
                              catalogs=tuple(shared_data / c / "collection.json"
                                             for c in (LANDSAT, EARTH_LOCAL)))
    with _client(remote_settings) as a, _client(local_settings) as b:
        _login(a)
        _login(b)
        yield {"remote": a, "local": b}


def _get(client: TestClient, path: str) -> dict[str, Any]:
    response = validate_httpx(client.get(API + path))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_collections_list_the_served_ones(clients: dict[str, TestClient]) -> None:
    ids = [c["id"] for c in _get(clients["remote"], "/collections")["collections"]]
    assert sorted(ids) == sorted([LANDSAT, EARTH_SEARCH_ID])


def test_cube_dimensions_equal_local_without_listed_dates(
        clients: dict[str, TestClient]) -> None:
    """x, y, bands and the time extent as the local catalog says; the dates of a searched
    collection are not listed (that would mean loading the whole collection)."""
    mine = _get(clients["remote"], f"/collections/{LANDSAT}")
    theirs = _get(clients["local"], f"/collections/{LANDSAT}")
    dims, local_dims = mine["cube:dimensions"], theirs["cube:dimensions"]
    for name in ("x", "y", "bands"):
        assert dims[name] == local_dims[name], name
    assert dims["t"]["extent"] == local_dims["t"]["extent"]
    assert "values" not in dims["t"] and len(local_dims["t"]["values"]) > 5
    assert mine["summaries"]["eo:bands"] == theirs["summaries"]["eo:bands"]
    assert mine["extent"] == theirs["extent"]


def test_earth_search_collection_metadata(remote: Remote,
                                          clients: dict[str, TestClient]) -> None:
    """Bands under Earth Search's asset keys with their common names; the CRS and the time
    extent are the STAC API's own."""
    body = _get(clients["remote"], f"/collections/{EARTH_SEARCH_ID}")
    source = httpx.get(f"{remote.api_url}/collections/{EARTH_SEARCH_ID}", timeout=30).json()
    dims = body["cube:dimensions"]
    assert dims["bands"]["values"] == list(source["item_assets"])
    assert set(dims["bands"]["values"]) == set(EARTH_SEARCH_KEYS.values())
    assert dims["x"]["reference_system"] == dims["y"]["reference_system"] == 32629
    start, end = source["extent"]["temporal"]["interval"][0]
    assert [v[:19] for v in dims["t"]["extent"]] == [start[:19], end[:19]]
    common = {b["name"]: b.get("common_name") for b in body["summaries"]["eo:bands"]}
    assert common["red"] == "red" and common["nir"] == "nir" and common["scl"] is None


def _result(client: TestClient, graph: dict[str, Any]) -> np.ma.MaskedArray:
    response = client.post(f"{API}/result", json={"process": {"process_graph": graph}})
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def _graph(cid: str, extent: dict[str, float], bands: list[str],
           *steps: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """load_collection, then each ``(node id, process, more arguments)`` on the previous
    node's ``data``, saved as GeoTIFF."""
    nodes: dict[str, Any] = {"load": {"process_id": "load_collection", "arguments": {
        "id": cid, "spatial_extent": extent, "bands": bands,
        "temporal_extent": LANDSAT_DATES if cid == LANDSAT else None}}}
    last = "load"
    for name, pid, arguments in steps:
        nodes[name] = {"process_id": pid,
                       "arguments": {"data": {"from_node": last}, **arguments}}
        last = name
    nodes["save"] = {"process_id": "save_result", "arguments": {
        "data": {"from_node": last}, "format": "GTiff"}, "result": True}
    return nodes


def _same(got: np.ma.MaskedArray, want: np.ma.MaskedArray) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_allclose(got.compressed(), want.compressed(), rtol=0, atol=1e-6)
    assert got.count() > 500


def test_max_ndvi_result_equals_local(clients: dict[str, TestClient]) -> None:
    graph = _graph(LANDSAT, LANDSAT_EXTENT, ["B4", "B5"],
                   ("ndvi", "ndvi", {}),
                   ("max", "reduce_dimension", {"dimension": "t", "reducer": {
                       "process_graph": {"m": {"process_id": "max", "arguments": {
                           "data": {"from_parameter": "data"}}, "result": True}}}}))
    _same(_result(clients["remote"], graph), _result(clients["local"], graph))


def test_common_band_names_and_scale(clients: dict[str, TestClient]) -> None:
    """``red``/``nir`` of the Earth Search collection are the local B04/B08, with its
    reflectance scale and offset applied; ``ndvi`` finds them by common name."""
    raw = _result(clients["local"], _graph(EARTH_LOCAL, EARTH_EXTENT, ["B04", "B08"]))
    red, nir = (raw[i].astype(np.float32) * np.float32(ES_SCALE) + np.float32(ES_OFFSET)
                for i in (0, 1))
    bands = _result(clients["remote"], _graph(EARTH_SEARCH_ID, EARTH_EXTENT, ["red", "nir"]))
    _same(bands, np.ma.stack([red, nir]))
    ndvi = _result(clients["remote"], _graph(EARTH_SEARCH_ID, EARTH_EXTENT, ["red", "nir"],
                                             ("ndvi", "ndvi", {})))
    _same(ndvi[0], ((nir - red) / (nir + red)).astype(np.float32))
