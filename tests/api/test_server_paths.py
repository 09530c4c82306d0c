"""No answer and no start-up warning reveals where the server keeps its files.

Each case provokes one kind of error (a damaged source file through the JSON API, XYZ,
WMTS and openEO; a damaged users file; a broken or missing STAC collection; a missing
asset at start) in a server whose folders all lie under the test's temporary folder,
and asserts that folder appears nowhere in what a client or the log gets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import morecantile
import pytest
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.catalog import load_collection
from ondemand.errors import CatalogInvalid
from ondemand.settings import Settings
from services import create_app
from tests.api.test_damaged_assets import _asset, _catalog, _graph


def _no_path(text: str, root: Path) -> None:
    assert str(root) not in text and "/tmp/" not in text, text


@pytest.fixture
def damaged(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    """A server over a collection whose item i2 has a truncated file."""
    catalog = _catalog(tmp_path)
    path = _asset(tmp_path, "i2")
    path.write_bytes(path.read_bytes()[:5000])
    settings = Settings(data_dir=tmp_path / "data", catalogs=(catalog,))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, tmp_path


def _service(client: TestClient, kind: str) -> str:
    job = client.post("/jobs", json={"process_graph": _graph()}).json()["job_id"]
    made = client.post("/services", json={"job_id": job, "type": kind})
    assert made.status_code == 200, made.text
    return str(made.json()["service_url"])


def test_damaged_source_through_every_protocol(damaged: tuple[TestClient, Path]) -> None:
    client, root = damaged
    answers: dict[str, Any] = {}
    answers["execute"] = client.post("/jobs/execute", json={
        "process_graph": _graph(), "output": {"format": "GTiff"}})
    answers["openeo"] = client.post("/openeo/1.2/result", json={
        "process": {"process_graph": _graph()}})
    tile = morecantile.tms.get("WebMercatorQuad").tile(15.02, 45.1, 13)
    answers["xyz"] = client.get(f"{_service(client, 'xyz')}/13/{tile.x}/{tile.y}.png")
    wmts = _service(client, "wmts")
    capabilities = client.get(wmts, params={"SERVICE": "WMTS", "REQUEST": "GetCapabilities"})
    layer = re.search(r"<Layer>.*?<ows:Identifier>([^<]+)</ows:Identifier>", capabilities.text,
                      re.S)
    assert layer is not None, capabilities.text[:500]
    answers["wmts"] = client.get(wmts, params={
        "SERVICE": "WMTS", "REQUEST": "GetTile", "VERSION": "1.0.0", "LAYER": layer.group(1),
        "STYLE": "default", "FORMAT": "image/png", "TILEMATRIXSET": "WebMercatorQuad",
        "TILEMATRIX": "13", "TILEROW": str(tile.y), "TILECOL": str(tile.x)})
    for name, response in answers.items():
        assert response.status_code == 502, (name, response.status_code, response.text)
        assert "i2" in response.text and "B1" in response.text, (name, response.text)
        _no_path(response.text, root)


def test_damaged_users_file(tmp_path: Path, demo_data_dir: Path) -> None:
    users = tmp_path / "accounts" / "users.json"
    AccountFile(users).add("alice", "a long password")
    settings = Settings(data_dir=demo_data_dir, demo=True, users_file=users)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        users.write_text('{"users": [{"name": "alice"')
        response = client.get("/jobs", auth=("alice", "a long password"))
    assert 400 <= response.status_code < 500, response.text
    assert "users.json" in response.json()["message"]
    _no_path(response.text, tmp_path)


@pytest.mark.parametrize("damage", ["missing", "not-json", "no-items", "broken-item"])
def test_unusable_collection_is_named_without_its_folder(tmp_path: Path, damage: str) -> None:
    catalog = _catalog(tmp_path)
    if damage == "missing":
        catalog.unlink()
    elif damage == "not-json":
        catalog.write_text("{ nope")
    elif damage == "no-items":
        text = catalog.read_text()
        catalog.write_text(re.sub(r'"rel": "item"', '"rel": "unrelated"', text))
    else:
        for item in tmp_path.rglob("*.json"):
            if item != catalog:
                item.write_text("[]")
    with pytest.raises(CatalogInvalid) as caught:
        load_collection(catalog)
    assert "collection.json" in caught.value.message
    _no_path(caught.value.message, tmp_path)


def test_missing_asset_warning_names_the_file_without_its_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = _catalog(tmp_path)
    gone = _asset(tmp_path, "i1")
    gone.unlink()
    with caplog.at_level(logging.WARNING):
        load_collection(catalog)
    warnings = [r.getMessage() for r in caplog.records if "disabled" in r.getMessage()]
    assert len(warnings) == 1 and gone.name in warnings[0], warnings
    _no_path(warnings[0], tmp_path)
