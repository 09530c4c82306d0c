"""Bad remote input: forbidden, missing and truncated assets, missing bands, a STAC API
down at start or while serving. Clear messages, 4xx/5xx statuses that say who failed,
never a hang or a 500."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import morecantile
import pytest
from rasterio.warp import transform
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.settings import Settings
from services import create_app
from tests.remote.conftest import BROKEN_ID, EARTH_SEARCH_ID, Remote
from tests.support.live import free_port
from tests.support.openeo_spec import validate_httpx
from tests.support.stacapi import RangeServer, stac_api_process

USER = ("carol", "carol-password")
ES_BOX = {"left": 300000, "right": 310000, "bottom": 2700000, "top": 2710000,
          "srs": "EPSG:32629"}


def _graph(cid: str, band: str, start: str, end: str, box: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    node: dict[str, Any] = {"product_id": cid}
    if box is not None:
        node = {"process_id": "filter_bbox", "args": {"imagery": node, **box}}
    node = {"process_id": "filter_daterange", "args": {"imagery": node, "from": start,
                                                        "to": end}}
    return {"process_id": "filter_bands", "args": {"imagery": node, "bands": [band]}}


def _execute(client: TestClient, graph: dict[str, Any]) -> Any:
    return client.post("/jobs/execute", json={"process_graph": graph,
                                              "output": {"format": "GTiff"}})


@pytest.fixture(scope="module")
def client(remote: Remote, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("errors"), stac_apis=(remote.api_url,),
                        stac_collections=(BROKEN_ID, EARTH_SEARCH_ID))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(("day", "file", "reason"), [
    pytest.param("2023-06-01", "forbidden.tif", "403", id="forbidden"),
    pytest.param("2023-06-04", "missing.tif", "404", id="missing"),
    pytest.param("2023-06-06", "truncated.tif", "", id="truncated"),
])
def test_unreadable_asset_is_502_naming_it(client: TestClient, files: RangeServer, day: str,
                                           file: str, reason: str) -> None:
    mark = files.log.mark()
    response = _execute(client, _graph(BROKEN_ID, "B04", day, day))
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["code"] == 10007
    message = body["message"]
    assert "'B04'" in message and f"/broken/{file}" in message and reason in message
    assert "of item 's2-rgb-broken-" in message
    assert any(path == f"/broken/{file}" for _, path, _, _ in files.log.since(mark))


def test_item_without_the_band_is_no_data_for_that_date(client: TestClient) -> None:
    """The 06-04 item has no B03 asset: that date is all no-data, the others are read."""
    from rasterio.io import MemoryFile

    response = _execute(client, _graph(BROKEN_ID, "B03", "2023-06-01", "2023-06-06"))
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        data = dataset.read(masked=True)
        descriptions = dataset.descriptions
    assert data.shape[0] == 3, descriptions
    counts = [int(layer.count()) for layer in data]
    assert counts[1] == 0 and counts[0] > 0 and counts[2] > 0, (counts, descriptions)


def test_band_the_collection_lacks_is_400(client: TestClient) -> None:
    response = _execute(client, _graph(BROKEN_ID, "B08", "2023-06-01", "2023-06-06"))
    assert response.status_code == 400, response.text
    assert "has no band 'B08'" in response.json()["message"]


def test_api_down_at_start_serves_the_other_catalogs(shared_data: Path, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path, stac_apis=(dead,), stac_retries=0,
                        catalogs=(shared_data / "s2-rgb-mol-2023" / "collection.json",))
    with TestClient(create_app(settings)) as test_client:
        listed = test_client.get("/data")
        assert listed.status_code == 200
        assert [c["product_id"] for c in listed.json()] == ["s2-rgb-mol-2023"]
        missing = test_client.get(f"/data/{EARTH_SEARCH_ID}")
        assert missing.status_code == 404
        assert f"STAC API {dead} is unavailable" in missing.json()["message"]
        graph = _graph("s2-rgb-mol-2023", "B04", "2023-06-01", "2023-06-01")
        assert _execute(test_client, graph).status_code == 200


def test_api_down_while_serving_is_503(remote: Remote, tmp_path: Path) -> None:
    AccountFile(tmp_path / "users.json").add(*USER)
    with stac_api_process(remote.python, remote.postgres, tmp_path / "api.log") as api:
        settings = Settings(data_dir=tmp_path, stac_apis=(api.url,), stac_retries=0,
                            stac_collections=(EARTH_SEARCH_ID,), stac_cache_entries=0,
                            users_file=tmp_path / "users.json")
        with TestClient(create_app(settings)) as test_client:
            test_client.auth = USER
            graph = _graph(EARTH_SEARCH_ID, "red", "2020-01-01", "2020-12-31", ES_BOX)
            assert _execute(test_client, graph).status_code == 200
            job_id = test_client.post("/jobs", json={"process_graph": graph}).json()["job_id"]
            assert test_client.post(f"/jobs/{job_id}/on_demand").status_code == 204
            service = test_client.post("/services", json={"job_id": job_id, "type": "wmts"})
            assert service.status_code == 200, service.text
            url = str(service.json()["service_url"]).replace("http://testserver", "")
            lon, lat = transform("EPSG:32629", "EPSG:4326", [305000], [2705000])
            where = morecantile.tms.get("WebMercatorQuad").tile(lon[0], lat[0], 14)
            tile = (f"{url}?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={job_id}"
                    "&STYLE=default&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad"
                    f"&TILEMATRIX=14&TILEROW={where.y}&TILECOL={where.x}")
            before = test_client.get(tile)
            assert before.status_code == 200, before.text
            api.stop()
            response = _execute(test_client, graph)
            assert response.status_code == 503, response.text
            assert f"STAC API {api.url} is unavailable" in response.json()["message"]
            assert response.headers["retry-after"] == "2"
            later = test_client.get(tile.replace(f"TILECOL={where.x}", f"TILECOL={where.x - 1}"))
            assert later.status_code == 503, later.text
            assert b"NoApplicableCode" in later.content and b"unavailable" in later.content
            assert later.headers["retry-after"] == "2"
            openeo = _openeo_result(test_client, ES_BOX)
            assert openeo.status_code == 503, openeo.text
            assert openeo.json()["code"] == "RemoteUnavailable"
            assert f"STAC API {api.url} is unavailable" in openeo.json()["message"]


def _openeo_result(client: TestClient, box: dict[str, Any]) -> Any:
    """``POST /openeo/1.2/result`` of the Earth Search red band in ``box``, as the user."""
    login = validate_httpx(client.get("/openeo/1.2/credentials/basic", auth=USER))
    token = login.json()["access_token"]
    extent = {"west": box["left"], "east": box["right"], "south": box["bottom"],
              "north": box["top"], "crs": 32629}
    graph = {"load": {"process_id": "load_collection", "arguments": {
        "id": EARTH_SEARCH_ID, "spatial_extent": extent, "bands": ["red"]}},
        "save": {"process_id": "save_result", "arguments": {
            "data": {"from_node": "load"}, "format": "GTiff"}, "result": True}}
    return validate_httpx(client.post(
        "/openeo/1.2/result", json={"process": {"process_graph": graph}},
        headers={"Authorization": f"Bearer basic//{token}"}, auth=None))


@contextmanager
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def test_silent_asset_server_times_out_naming_the_asset(shared_data: Path,
                                                        tmp_path: Path) -> None:
    """An asset host that never answers: the read gives up after ``http_timeout`` (no
    retries here) with the asset's name, instead of holding the request forever."""
    with silent_server() as url:
        shutil.copytree(shared_data / "s2-rgb-mol-2023", tmp_path / "coll",
                        ignore=shutil.ignore_patterns("*.tif"))
        for path in (tmp_path / "coll").glob("*/*.json"):
            item = json.loads(path.read_text())
            for band, asset in item["assets"].items():
                asset["href"] = f"{url}/{item['id']}/{band}.tif"
            path.write_text(json.dumps(item))
        settings = Settings(data_dir=tmp_path / "data", http_timeout=1, http_retries=0,
                            catalogs=(tmp_path / "coll" / "collection.json",))
        answers: list[Any] = []

        def run() -> None:
            with TestClient(create_app(settings)) as test_client:
                graph = _graph("s2-rgb-mol-2023", "B04", "2023-06-01", "2023-06-01")
                answers.append(_execute(test_client, graph))

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the request hung on a silent asset server"
    (response,) = answers
    assert response.status_code == 502, response.text
    message = response.json()["message"]
    assert "'B04'" in message and "S2_RGB_20230601/B04.tif" in message
    assert "timed out" in message.lower() or "timeout" in message.lower(), message
