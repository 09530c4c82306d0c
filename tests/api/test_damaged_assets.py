"""Damaged or missing source files: clear errors naming item and band, nothing cached, and a
file missing at start disables its item, not the server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
from affine import Affine
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from services.state import AppState
from tests.support.cogs import make_collection

ORIGIN = Affine(10, 0, 500000, 0, -10, 5000000)
SIZE = 512


def _catalog(root: Path) -> Path:
    rng = np.random.default_rng(7)
    items = [(f"i{n}", datetime(2020, 1, n, tzinfo=UTC),
              {"B1": (rng.integers(1, 1000, (SIZE, SIZE)).astype(np.uint16), 0.0, 1.0, 0.0)})
             for n in (1, 2)]
    return make_collection(root / "cat", items, 32633, ORIGIN, collection_id="damaged",
                           blocksize=128)


def _asset(root: Path, item: str) -> Path:
    found = sorted((root / "cat").rglob(f"*{item}*/*.tif")) or sorted(
        p for p in (root / "cat").rglob("*.tif") if item in str(p))
    assert len(found) == 1, found
    return found[0]


def _state(client: TestClient) -> AppState:
    value = client.app.state.ondemand  # type: ignore[attr-defined]
    assert isinstance(value, AppState)
    return value


def _graph(item_date: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"id": "damaged"}
    if item_date:
        args["temporal_extent"] = [item_date, None]
    return {"load": {"process_id": "load_collection", "arguments": args},
            "max": {"process_id": "reduce_dimension", "result": True, "arguments": {
                "data": {"from_node": "load"}, "dimension": "t", "reducer": {"process_graph": {
                    "m": {"process_id": "max", "result": True,
                          "arguments": {"data": {"from_parameter": "data"}}}}}}}}


@pytest.fixture
def truncated(tmp_path: Path) -> Iterator[TestClient]:
    catalog = _catalog(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", catalogs=(catalog,))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        path = _asset(tmp_path, "i2")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        yield client


def _assert_names_the_asset(response: Any) -> None:
    assert response.status_code == 502, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    assert "'i2'" in body["message"] and "'B1'" in body["message"], body
    assert "/tmp" not in body["message"] and "/cat/" not in body["message"], body


def test_truncated_cog_on_execute_is_502_naming_item_and_band(truncated: TestClient) -> None:
    response = truncated.post("/jobs/execute", json={"process_graph": _graph(),
                                                     "output": {"format": "GTiff"}})
    _assert_names_the_asset(response)


def test_truncated_cog_tile_is_502_and_not_cached(truncated: TestClient) -> None:
    job = truncated.post("/jobs", json={"process_graph": _graph()}).json()
    assert truncated.post(f"/jobs/{job['job_id']}/on_demand").status_code == 204
    service = truncated.post("/services", json={"job_id": job["job_id"], "type": "xyz"}).json()
    lon, lat = 15.0 + 0.02, 45.1  # inside the item, near its origin (15E, 45.1N)
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 13)
    url = f"{service['service_url']}/13/{tile.x}/{tile.y}.png"
    for _ in range(2):
        _assert_names_the_asset(truncated.get(url))
    assert len(_state(truncated).tiles) == 0


def test_missing_asset_at_start_disables_the_item(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = _catalog(tmp_path)
    _asset(tmp_path, "i1").unlink()
    settings = Settings(data_dir=tmp_path / "data", catalogs=(catalog,))
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings)) as client:
        items = _state(client).catalog.get("damaged").items
        assert [i.id for i in items] == ["i2"]
        response = client.post("/jobs/execute", json={"process_graph": _graph(),
                                                      "output": {"format": "GTiff"}})
        assert response.status_code == 200, response.text
    assert any("i1" in r.getMessage() and "disabled" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("keep", [300, 0.5], ids=["header-cut", "half-file"])
def test_truncated_cog_at_start(tmp_path: Path, keep: float,
                                caplog: pytest.LogCaptureFixture) -> None:
    """A file cut short before start: the server starts, the item is either disabled with a
    warning or a 502 naming it, the item's neighbours and other collections are served."""
    catalog = _catalog(tmp_path)
    good_pixels = np.arange(1, 65 * 65 + 1, dtype=np.uint16).reshape(65, 65) % 997 + 1
    other = make_collection(tmp_path / "good", [
        ("g1", datetime(2021, 5, 1, tzinfo=UTC), {"B1": (good_pixels, 0.0, 1.0, 0.0)})],
        32633, Affine(100, 0, 600000, 0, -100, 5000000), collection_id="good")
    path = _asset(tmp_path, "i2")
    data = path.read_bytes()
    path.write_bytes(data[: int(keep if keep >= 1 else len(data) * keep)])
    settings = Settings(data_dir=tmp_path / "data", catalogs=(catalog, other))
    with caplog.at_level(logging.WARNING), \
            TestClient(create_app(settings), raise_server_exceptions=False) as client:
        ids = [i.id for i in _state(client).catalog.get("damaged").items]
        both = client.post("/jobs/execute", json={"process_graph": _graph(),
                                                  "output": {"format": "GTiff"}})
        if "i2" in ids:
            _assert_names_the_asset(both)
        else:
            assert any("i2" in r.getMessage() for r in caplog.records)
            assert both.status_code == 200, both.text
        first = _graph()
        first["load"]["arguments"]["temporal_extent"] = ["2020-01-01", "2020-01-01T12:00:00Z"]
        alone = client.post("/jobs/execute", json={"process_graph": first,
                                                   "output": {"format": "GTiff"}})
        good = _graph()
        good["load"]["arguments"]["id"] = "good"
        elsewhere = client.post("/jobs/execute", json={"process_graph": good,
                                                       "output": {"format": "GTiff"}})
    for response, source in ((alone, None), (elsewhere, good_pixels)):
        assert response.status_code == 200, response.text
        with MemoryFile(response.content) as mem, mem.open() as tif:
            values = tif.read(1, masked=True)
        assert values.count() > 0
        if source is not None:
            assert set(np.unique(values.compressed())) <= set(np.unique(source).astype(float))
