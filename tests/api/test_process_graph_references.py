"""The draft's ``process_graph`` process: a stored graph applied to ``imagery`` (its data
source replaced), checked against numpy on the Landsat COGs; other hosts refused without
any fetch, other users' graphs not found."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.catalog import Catalog
from ondemand.settings import Settings
from services import create_app
from services.layers import RECHECK_SECONDS
from tests.support.landsat_ndvi import ndvi_on_grid

ALICE = ("alice", "correct horse")
BOB = ("bob", "battery staple")
LANDSAT = "landsat8-ny-2018"
DATE = "2018-04-21"
STORED = {"process_id": "NDVI", "args": {"imagery": {"product_id": LANDSAT},
                                         "red": "B4", "nir": "B5"}}
"""The stored graph: NDVI of whatever imagery it is applied to."""


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def one_date() -> dict[str, Any]:
    """The imagery the stored graph is applied to: one date of path/row 013032."""
    return {"process_id": "filter_daterange",
            "args": {"imagery": {"product_id": LANDSAT}, "from": DATE, "to": DATE}}


def referencing(uri: str) -> dict[str, Any]:
    return {"process_id": "process_graph", "args": {"imagery": one_date(), "uri": uri}}


@pytest.fixture(scope="module")
def client(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("graphrefs")
    accounts = AccountFile(data_dir / "users.json")
    accounts.add(*ALICE)
    accounts.add(*BOB)
    settings = Settings(data_dir=data_dir, users_file=data_dir / "users.json",
                        catalogs=(shared_data / LANDSAT / "collection.json",))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def graph_id(client: TestClient) -> str:
    created = client.post("/process_graphs", json=STORED, headers=basic(*ALICE))
    assert created.status_code == 200, created.text
    return str(created.json()["process_graph_id"])


def execute(client: TestClient, graph: dict[str, Any], user: tuple[str, str] = ALICE) -> Any:
    return client.post("/jobs/execute", headers=basic(*user),
                       json={"process_graph": graph, "output": {"format": "GTiff"}})


def _read(content: bytes) -> tuple[np.ma.MaskedArray, Any]:
    with MemoryFile(content) as mem, mem.open() as ds:
        return ds.read(1, masked=True), ds.transform


def numpy_ndvi(shared_data: Path, shape: tuple[int, int], transform: Any) -> np.ma.MaskedArray:
    """NDVI of the one scene of DATE on the output grid, from the COGs with numpy."""
    collection = Catalog.load([shared_data / LANDSAT / "collection.json"]).get(LANDSAT)
    items = [i for i in collection.items if i.datetime.date().isoformat() == DATE]
    assert len(items) == 1
    return ndvi_on_grid(items, shape, transform)[0]


@pytest.mark.parametrize("form", ["absolute", "users", "relative"])
def test_the_stored_graph_applies_to_the_imagery(client: TestClient, graph_id: str,
                                                 shared_data: Path, form: str) -> None:
    uri = {
        "absolute": f"http://testserver/process_graphs/{graph_id}",
        "users": f"http://testserver/users/alice/process_graphs/{graph_id}",
        "relative": f"/process_graphs/{graph_id}",
    }[form]
    response = execute(client, referencing(uri))
    assert response.status_code == 200, response.text
    got, transform = _read(response.content)
    inline = execute(client, {**STORED, "args": {**STORED["args"], "imagery": one_date()}})
    assert inline.status_code == 200, inline.text
    assert response.content == inline.content
    expected = numpy_ndvi(shared_data, got.shape, transform)
    assert got.count() > 1000
    # the collection's grid is not the scene's: a few pixel centres fall on the scene's
    # edge, where nearest-neighbour reads may take either side
    edge = np.ma.getmaskarray(got) != np.ma.getmaskarray(expected)
    assert edge.mean() < 0.001
    both = ~np.ma.getmaskarray(got) & ~np.ma.getmaskarray(expected)
    np.testing.assert_allclose(got.data[both], expected.data[both], rtol=1e-5, atol=1e-6)


def test_a_job_referencing_it_runs_on_demand(client: TestClient, graph_id: str) -> None:
    alice = basic(*ALICE)
    created = client.post("/jobs", headers=alice, json={
        "process_graph": referencing(f"http://testserver/process_graphs/{graph_id}")})
    assert created.status_code == 200, created.text
    job_id = created.json()["job_id"]
    result = client.get(f"/jobs/{job_id}/on_demand/result.tif", headers=alice)
    assert result.status_code == 200, result.text
    direct = execute(client, referencing(f"/process_graphs/{graph_id}"))
    np.testing.assert_array_equal(_read(result.content)[0].filled(np.nan),
                                  _read(direct.content)[0].filled(np.nan))


def _listening_socket() -> tuple[socket.socket, list[bytes]]:
    """A loopback server that records anything sent to it (nothing must be)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            received.append(conn.recv(1024))
            conn.close()
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return server, received


def test_another_host_is_refused_without_a_fetch(client: TestClient, graph_id: str) -> None:
    server, received = _listening_socket()
    port = server.getsockname()[1]
    try:
        response = execute(
            client, referencing(f"http://127.0.0.1:{port}/process_graphs/{graph_id}"))
    finally:
        server.close()
    assert response.status_code == 400
    assert "another host" in response.json()["message"]
    assert received == []


@pytest.mark.parametrize(("uri", "status", "named"), [
    ("ftp://testserver/process_graphs/x", 400, "http"),
    ("http://testserver/jobs/x", 400, "does not name"),
    ("http://testserver/process_graphs/nope", 404, "nope"),
])
def test_bad_uris(client: TestClient, uri: str, status: int, named: str) -> None:
    response = execute(client, referencing(uri))
    assert response.status_code == status, response.text
    assert named in response.json()["message"]


def test_another_users_graph_is_not_found(client: TestClient, graph_id: str) -> None:
    for uri in (f"/process_graphs/{graph_id}", f"/users/alice/process_graphs/{graph_id}"):
        response = execute(client, referencing(uri), BOB)
        assert response.status_code == 404, response.text


def test_the_data_source_of_a_filtered_stored_graph_is_replaced(client: TestClient) -> None:
    alice = basic(*ALICE)
    stored = client.post("/process_graphs", json=one_date(), headers=alice)
    assert stored.status_code == 200, stored.text
    applied = {"process_id": "NDVI", "args": {"imagery": referencing(
        f"/process_graphs/{stored.json()['process_graph_id']}"), "red": "B4", "nir": "B5"}}
    inline = {"process_id": "NDVI", "args": {"imagery": {**one_date(), "args": {
        **one_date()["args"], "imagery": one_date()}}, "red": "B4", "nir": "B5"}}
    got, want = execute(client, applied), execute(client, inline)
    assert got.status_code == 200, got.text
    assert got.content == want.content


def test_a_stored_graph_with_two_sources_cannot_be_applied(client: TestClient) -> None:
    two = {"process_id": "merge_cubes", "args": {"cube1": {"product_id": LANDSAT},
                                                 "cube2": {"product_id": LANDSAT}}}
    stored = client.post("/process_graphs", json=two, headers=basic(*ALICE))
    assert stored.status_code == 200, stored.text
    response = execute(client, referencing(
        f"/process_graphs/{stored.json()['process_graph_id']}"))
    assert response.status_code == 400
    assert "reads 2 collections" in response.json()["message"]


def _centre_tile(client: TestClient, service: dict[str, Any], headers: dict[str, str]) -> bytes:
    """The float GeoTIFF of the tile at the centre of a published xyz service's layer."""
    href = next(link["href"] for link in service["links"] if link["rel"] == "tilejson")
    lon, lat, _ = client.get(href, headers=headers).json()["center"]
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 9)
    url = f"{service['service_url']}/{tile.z}/{tile.x}/{tile.y}.tif"
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.content


def test_a_published_job_follows_a_change_of_the_stored_graph(client: TestClient) -> None:
    """After a PUT of the stored graph, the job's tiles are those of the new graph (the
    layer checks its stored graphs at most every second), with no PATCH of the job."""
    alice = basic(*ALICE)
    stored = client.post("/process_graphs", json=STORED, headers=alice).json()
    graph_id = stored["process_graph_id"]
    job = client.post("/jobs", headers=alice, json={
        "process_graph": referencing(f"/process_graphs/{graph_id}")}).json()
    service = client.post("/services", headers=alice,
                          json={"job_id": job["job_id"], "type": "xyz"}).json()
    before = _centre_tile(client, service, alice)
    swapped = {**STORED, "args": {**STORED["args"], "red": "B5", "nir": "B4"}}
    replaced = client.put(f"/process_graphs/{graph_id}", json=swapped, headers=alice)
    assert replaced.status_code in (200, 204), replaced.text
    time.sleep(RECHECK_SECONDS + 0.2)
    after = _centre_tile(client, service, alice)
    inline = client.post("/jobs", headers=alice, json={
        "process_graph": {**swapped, "args": {**swapped["args"], "imagery": one_date()}}}).json()
    inline_service = client.post("/services", headers=alice,
                                 json={"job_id": inline["job_id"], "type": "xyz"}).json()
    expected = _centre_tile(client, inline_service, alice)
    old, new = _read(before)[0], _read(after)[0]
    assert new.count() > 1000
    np.testing.assert_array_equal(new.filled(np.nan), _read(expected)[0].filled(np.nan))
    np.testing.assert_allclose(new.compressed(), -old.compressed(), rtol=1e-5, atol=1e-6)
