"""A remote item that changes is never served stale: tile cache keys carry the identity
(``updated``, else a hash of the item's JSON) of the items a search finds under the tile."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.remote.conftest import Remote
from tests.support.stacapi import (
    RangeServer,
    StacApiProcess,
    collection_docs,
    load_pgstac,
    stac_api_process,
    upsert_items,
)

COLLECTION = "s2-rgb-mol-2023"
DATABASE = "stac_changes"
TILE = morecantile.tms.get("WebMercatorQuad").tile(5.075, 51.2175, 16)


@dataclass
class Archive:
    """A STAC API of its own (its items change during the tests), its DSN and items."""

    api: StacApiProcess
    dsn: str
    items: dict[str, dict[str, Any]]
    work: Path
    python: Path


@pytest.fixture(scope="module")
def archive(remote: Remote, files: RangeServer, shared_data: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    work = tmp_path_factory.mktemp("changes")
    coll, items = collection_docs(shared_data, COLLECTION, f"{files.url}/data")
    dsn = load_pgstac(remote.postgres, remote.python, [(coll, items)], work, DATABASE)
    with stac_api_process(remote.python, remote.postgres, work / "api.log", DATABASE) as api:
        yield Archive(api, dsn, {i["properties"]["datetime"][:10]: i for i in items}, work,
                      remote.python)


def _tile_url(client: TestClient, day: str) -> str:
    graph = {"process_id": "filter_bands", "args": {"bands": ["B04"], "imagery": {
        "process_id": "filter_daterange", "args": {
            "imagery": {"product_id": COLLECTION}, "from": day, "to": day}}}}
    job_id = client.post("/jobs", json={"process_graph": graph}).json()["job_id"]
    assert client.post(f"/jobs/{job_id}/on_demand").status_code == 204
    service = client.post("/services", json={"job_id": job_id, "type": "xyz"})
    assert service.status_code == 200, service.text
    return f"/services/{service.json()['service_id']}/xyz/{TILE.z}/{TILE.x}/{TILE.y}.tif"


def _pixels(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def _b04_reads(files: RangeServer, mark: int) -> int:
    return sum(1 for method, path, _, _ in files.log.since(mark)
               if method == "GET" and path.endswith("/B04.tif"))


def test_changed_item_gets_new_tiles(archive: Archive, files: RangeServer,
                                     tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, stac_apis=(archive.api.url,), stac_cache_entries=0)
    with TestClient(create_app(settings)) as client:
        url = _tile_url(client, "2023-06-01")
        first = client.get(url)
        assert first.status_code == 200, first.text
        mark = files.log.mark()
        again = client.get(url)
        assert again.headers["etag"] == first.headers["etag"]
        assert _b04_reads(files, mark) == 0, "an unchanged tile comes from the tile cache"
        others = {day: _pixels(client.get(_tile_url(client, day)).content)
                  for day in ("2023-06-04", "2023-06-06")}
        assert not np.ma.allequal(others["2023-06-04"], _pixels(first.content))

        etags = {first.headers["etag"]}
        for source, updated in (("2023-06-04", None), ("2023-06-06", "2026-12-01T00:00:00Z")):
            item = copy.deepcopy(archive.items["2023-06-01"])
            item["assets"]["B04"]["href"] = archive.items[source]["assets"]["B04"]["href"]
            if updated is not None:
                item["properties"]["updated"] = updated
            upsert_items(archive.python, archive.dsn, [item], archive.work)
            changed = client.get(url)
            assert changed.status_code == 200, changed.text
            assert changed.headers["etag"] not in etags
            etags.add(changed.headers["etag"])
            got, want = _pixels(changed.content), others[source]
            np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
            np.testing.assert_array_equal(got.compressed(), want.compressed())
            assert got.count() > 100
