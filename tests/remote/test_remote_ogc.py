"""WMTS tiles and WCS coverages of a STAC API collection equal the local ones, and a tile
costs the file server about one ranged GET per band, date and internal COG tile."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import morecantile
import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform, transform_bounds
from rasterio.windows import from_bounds
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.remote.conftest import EARTH_SEARCH_ID, Remote
from tests.support.stacapi import RangeServer

LOCAL_ID = "s2-l2a-29rkh"
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
BOX = {"left": 250000, "right": 310000, "bottom": 2690000, "top": 2730000, "srs": "EPSG:32629"}


def _publish(client: TestClient, graph: dict[str, Any], kind: str) -> tuple[str, str]:
    job_id = client.post("/jobs", json={"process_graph": graph}).json()["job_id"]
    assert client.post(f"/jobs/{job_id}/on_demand").status_code == 204
    service = client.post("/services", json={"job_id": job_id, "type": kind})
    assert service.status_code == 200, service.text
    return job_id, str(service.json()["service_url"]).replace("http://testserver", "")


@pytest.fixture(scope="module")
def clients(remote: Remote, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, TestClient]]:
    remote_settings = Settings(data_dir=tmp_path_factory.mktemp("ogc-remote"),
                               stac_apis=(remote.api_url,), stac_collections=(EARTH_SEARCH_ID,),
                               read_threads=1)
    local_settings = Settings(data_dir=tmp_path_factory.mktemp("ogc-local"),
                              catalogs=(shared_data / LOCAL_ID / "collection.json",))
    with TestClient(create_app(remote_settings)) as there, \
            TestClient(create_app(local_settings)) as here:
        yield {"remote": there, "local": here}


def _tiff(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def _tile_query(job_id: str, z: int, x: int, y: int) -> str:
    return (f"?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={job_id}&STYLE=default"
            f"&FORMAT=image/tiff&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX={z}"
            f"&TILEROW={y}&TILECOL={x}")


def test_wmts_tile_equals_local(clients: dict[str, TestClient]) -> None:
    """The remote collection declares reflectance scale and offset (as Earth Search does), the
    local one raw numbers: the remote tile is the local tile scaled, pixel for pixel."""
    tiles = {}
    for side, cid in (("remote", EARTH_SEARCH_ID), ("local", LOCAL_ID)):
        graph = {"process_id": "filter_bands", "args": {
            "imagery": {"process_id": "filter_bbox",
                        "args": {"imagery": {"product_id": cid}, **BOX}},
            "bands": ["B04"]}}
        job_id, url = _publish(clients[side], graph, "wmts")
        lon, lat = transform("EPSG:32629", "EPSG:4326", [290000], [2710000])
        tile = WEB_MERCATOR.tile(lon[0], lat[0], 10)
        response = clients[side].get(url + _tile_query(job_id, 10, tile.x, tile.y))
        assert response.status_code == 200, response.text
        tiles[side] = _tiff(response.content)
    local = tiles["local"].astype(np.float32) * np.float32(0.0001) + np.float32(-0.1)
    got = tiles["remote"]
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(local))
    np.testing.assert_allclose(got.compressed(), local.compressed(), atol=1e-6, rtol=0)
    assert got.count() > 10000


def test_wcs_coverage_equals_local(clients: dict[str, TestClient]) -> None:
    got = {}
    for side, cid in (("remote", EARTH_SEARCH_ID), ("local", LOCAL_ID)):
        graph = {"process_id": "filter_bands", "args": {
            "imagery": {"process_id": "filter_bbox",
                        "args": {"imagery": {"product_id": cid}, **BOX}},
            "bands": ["B08"]}}
        job_id, url = _publish(clients[side], graph, "wcs")
        response = clients[side].get(
            f"{url}?SERVICE=WCS&REQUEST=GetCoverage&VERSION=2.0.1&COVERAGEID={job_id}"
            "&SUBSET=E(260000,300000)&SUBSET=N(2695000,2725000)&SCALESIZE=E(200),N(150)"
            "&FORMAT=image/tiff")
        assert response.status_code == 200, response.text
        got[side] = _tiff(response.content)
    local = got["local"].astype(np.float32) * np.float32(0.0001) + np.float32(-0.1)
    np.testing.assert_array_equal(np.ma.getmaskarray(got["remote"]), np.ma.getmaskarray(local))
    np.testing.assert_allclose(got["remote"].compressed(), local.compressed(), atol=1e-6, rtol=0)
    assert got["remote"].count() > 25000


def _blocks_touched(path: Path, bounds_3857: tuple[float, float, float, float]) -> int:
    """Internal tiles of the full-resolution COG under a Web Mercator tile (upper bound of
    what an overview read touches)."""
    with rasterio.open(path) as src:
        box = transform_bounds("EPSG:3857", src.crs, *bounds_3857, densify_pts=21)
        window = from_bounds(*box, transform=src.transform)
        bw, bh = src.block_shapes[0][1], src.block_shapes[0][0]
        cols = range(max(0, math.floor(window.col_off / bw)),
                     min(math.ceil(src.width / bw),
                         math.ceil((window.col_off + window.width) / bw)))
        rows = range(max(0, math.floor(window.row_off / bh)),
                     min(math.ceil(src.height / bh),
                         math.ceil((window.row_off + window.height) / bh)))
        return len(cols) * len(rows)


def test_tile_costs_one_ranged_get_per_band_and_block(
    clients: dict[str, TestClient], files: RangeServer, shared_data: Path
) -> None:
    """After warm-up (headers read once), a new tile of a 2-band NDVI reads each band's
    touched blocks with one ranged GET each at most; nothing is fetched whole."""
    client = clients["remote"]
    scene = {"left": 200000, "right": 309000, "bottom": 2691000, "top": 2799000,
             "srs": "EPSG:32629"}
    imagery = {"process_id": "filter_bbox",
               "args": {"imagery": {"product_id": EARTH_SEARCH_ID}, **scene}}
    graph = {"process_id": "NDVI", "args": {"imagery": imagery, "red": "B04", "nir": "B08"}}
    job_id, url = _publish(client, graph, "wmts")
    lon, lat = transform("EPSG:32629", "EPSG:4326", [205000], [2780000])
    first = WEB_MERCATOR.tile(lon[0], lat[0], 12)
    warm = client.get(url + _tile_query(job_id, 12, first.x, first.y))
    assert warm.status_code == 200, warm.text
    sizes = {p.name: p.stat().st_size for p in (shared_data / LOCAL_ID).rglob("*.tif")}
    for dx in (6, 11):
        tile = morecantile.Tile(first.x + dx, first.y, 12)
        mark = files.log.mark()
        response = client.get(url + _tile_query(job_id, 12, tile.x, tile.y))
        assert response.status_code == 200, response.text
        requests = files.log.since(mark)
        assert requests, "the tile read nothing over HTTP"
        assert all(method == "GET" for method, *_ in requests), requests
        merc = WEB_MERCATOR.xy_bounds(tile)
        bounds = (merc.left, merc.bottom, merc.right, merc.top)
        budget = sum(_blocks_touched(next((shared_data / LOCAL_ID).rglob(f"{b}.tif")), bounds)
                     for b in ("B04", "B08"))
        assert len(requests) <= budget, (requests, budget)
        for _, path, byte_range, status in requests:
            assert status == 206 and byte_range.startswith("bytes="), (path, byte_range)
            start, end = (int(v) for v in byte_range[len("bytes="):].split("-"))
            assert end - start + 1 < sizes[Path(path).name], (path, byte_range)


LANDSAT = "landsat8-ny-2018"
NY_BOX = {"left": 560000, "right": 640000, "bottom": 4480000, "top": 4540000,
          "srs": "EPSG:32618"}


@pytest.fixture(scope="module")
def landsat_clients(remote: Remote, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[dict[str, TestClient]]:
    """The Landsat series through the STAC API and from the local files."""
    remote_settings = Settings(data_dir=tmp_path_factory.mktemp("caps-remote"),
                               stac_apis=(remote.api_url,), stac_collections=(LANDSAT,))
    local_settings = Settings(data_dir=tmp_path_factory.mktemp("caps-local"),
                              catalogs=(shared_data / LANDSAT / "collection.json",))
    with TestClient(create_app(remote_settings)) as there, \
            TestClient(create_app(local_settings)) as here:
        yield {"remote": there, "local": here}


def _capabilities_facts(client: TestClient) -> dict[str, Any]:
    """WMTS dates and WGS84 box, WCS 2.0.1 envelope and time positions of the NDVI series."""
    graph = {"process_id": "NDVI", "args": {"red": "B4", "nir": "B5", "imagery": {
        "process_id": "filter_bbox", "args": {"imagery": {"product_id": LANDSAT}, **NY_BOX}}}}
    job_id, url = _publish(client, graph, "wmts")
    wmts = client.get(f"{url}?SERVICE=WMTS&REQUEST=GetCapabilities&VERSION=1.0.0")
    assert wmts.status_code == 200, wmts.text
    root = ElementTree.fromstring(wmts.content)
    layer = root.find(".//{*}Contents/{*}Layer")
    assert layer is not None
    box = layer.find("{*}WGS84BoundingBox")
    assert box is not None
    job_id, url = _publish(client, graph, "wcs")
    wcs = client.get(f"{url}?SERVICE=WCS&REQUEST=DescribeCoverage&VERSION=2.0.1"
                     f"&COVERAGEID={job_id}")
    assert wcs.status_code == 200, wcs.text
    described = ElementTree.fromstring(wcs.content)
    envelope = described.find(".//{*}Envelope")
    assert envelope is not None
    return {
        "dates": [v.text for v in layer.findall("{*}Dimension/{*}Value")],
        "wgs84": [c.text for c in box],
        "envelope": [(c.tag, c.text) for c in envelope],
        "coefficients": [c.text for c in described.iter() if c.tag.endswith("coefficients")],
    }


def test_capabilities_equal_local(landsat_clients: dict[str, TestClient]) -> None:
    """WMTS capabilities (dates, extent) and WCS 2.0.1 DescribeCoverage (envelope, dates)
    of a series on the STAC API say what the local catalog's do."""
    mine = _capabilities_facts(landsat_clients["remote"])
    theirs = _capabilities_facts(landsat_clients["local"])
    assert mine == theirs
    assert len(mine["dates"]) > 10


def test_ogcapi_previews_leave_searched_collections_out(
        remote: Remote, shared_data: Path, tmp_path: Path) -> None:
    """An archive too large to list (here: more items than ``stac_max_items``) keeps the
    OGC API's catalog listing working: previews are of static collections; a STAC API
    collection is served through a job with a bounding box published as ``ogcapi``."""
    settings = Settings(data_dir=tmp_path, stac_apis=(remote.api_url,), stac_max_items=5,
                        stac_collections=(LANDSAT,),
                        catalogs=(shared_data / LOCAL_ID / "collection.json",))
    with TestClient(create_app(settings)) as client:
        listed = client.get("/ogcapi/collections")
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json()["collections"]] == [LOCAL_ID]
        missing = client.get(f"/ogcapi/collections/{LANDSAT}")
        assert missing.status_code == 404, missing.text
        assert "searched in a STAC API" in missing.json()["detail"]
        graph = {"process_id": "filter_daterange", "args": {
            "from": "2018-01-01", "to": "2018-02-28", "imagery": {
                "process_id": "filter_bbox", "args": {"imagery": {"product_id": LANDSAT},
                                                      **NY_BOX}}}}
        job_id, url = _publish(client, graph, "ogcapi")
        service_id = url.rstrip("/").split("/services/")[1].split("/")[0]
        collection = client.get(f"/services/{service_id}/ogcapi/collections/{service_id}")
        assert collection.status_code == 200, collection.text
        assert collection.json()["id"] == service_id
