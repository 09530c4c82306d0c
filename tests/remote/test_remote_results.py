"""The STAC API + HTTP path gives the local catalog's results: NDVI, max over time, zonal
statistics, Earth Search band names with raster:bands scale and offset."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from ondemand.catalog import Catalog, open_catalog
from ondemand.catalog.api import SearchedItems, StacApi
from ondemand.catalog.catalog import api_options
from ondemand.catalog.model import FilteredItems
from ondemand.engine import Engine
from ondemand.settings import Settings
from ondemand.userfiles import UserFiles
from tests.remote.conftest import EARTH_SEARCH_ID, Remote
from tests.support.stacapi import ES_OFFSET, ES_SCALE, RangeServer

LANDSAT = "landsat8-ny-2018"
SLOVENIA = "s2-ndvi-slovenia"
NY_BOX = {"left": 560000, "right": 640000, "bottom": 4480000, "top": 4540000, "srs": "EPSG:32618"}


def _bbox(node: dict[str, Any], box: dict[str, Any]) -> dict[str, Any]:
    return {"process_id": "filter_bbox", "args": {"imagery": node, **box}}


def _dates(node: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    return {"process_id": "filter_daterange", "args": {"imagery": node, "from": start, "to": end}}


def landsat_ndvi(reduce: str | None = None) -> dict[str, Any]:
    """NDVI of Landsat B4/B5 over a New York box in 2018, optionally reduced over time."""
    imagery = _dates(_bbox({"product_id": LANDSAT}, NY_BOX), "2018-01-01", "2018-12-31")
    graph: dict[str, Any] = {"process_id": "NDVI",
                             "args": {"imagery": imagery, "red": "B4", "nir": "B5"}}
    return graph if reduce is None else {"process_id": reduce, "args": {"imagery": graph}}


def slovenia_max() -> dict[str, Any]:
    """Maximum NDVI over 2016 of the Slovenian series (float32, NaN nodata)."""
    box = {"left": 465200, "right": 466000, "bottom": 5079300, "top": 5080200,
           "srs": "EPSG:32633"}
    imagery = _dates(_bbox({"product_id": SLOVENIA}, box), "2016-01-01", "2016-12-31")
    return {"process_id": "max_time",
            "args": {"imagery": {"process_id": "filter_bands",
                                 "args": {"imagery": imagery, "bands": ["NDVI"]}}}}


@pytest.fixture(scope="module")
def local(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on the same collections read from local files."""
    catalog = Catalog.load([shared_data / n / "collection.json"
                            for n in (LANDSAT, SLOVENIA, "s2-l2a-29rkh")])
    engine = Engine(catalog, Settings(data_dir=tmp_path_factory.mktemp("local")))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def remote_engine(remote: Remote, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine whose catalog is the STAC API, its assets read over HTTP."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("remote"), stac_apis=(remote.api_url,))
    engine = Engine(open_catalog([], settings), settings)
    yield engine
    engine.close()


def _tiff(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def _assert_same(got: np.ma.MaskedArray, want: np.ma.MaskedArray) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_allclose(got.compressed(), want.compressed(), rtol=0, atol=1e-6)
    assert got.count() > 0


@pytest.mark.parametrize("graph", [
    pytest.param(landsat_ndvi(), id="landsat-ndvi-series"),
    pytest.param(landsat_ndvi("max_time"), id="landsat-max-ndvi"),
    pytest.param(slovenia_max(), id="slovenia-max-ndvi"),
])
def test_execute_equals_local(local: Engine, remote_engine: Engine, files: RangeServer,
                              graph: dict[str, Any]) -> None:
    mark = files.log.mark()
    got = _tiff(remote_engine.execute(graph, {"format": "GTiff"}).content)
    want = _tiff(local.execute(graph, {"format": "GTiff"}).content)
    _assert_same(got, want)
    reads = files.log.since(mark)
    assert all(status in (200, 206) for *_, status in reads), reads


def test_catalog_facts_equal_local(local: Engine, remote_engine: Engine) -> None:
    for cid in (LANDSAT, SLOVENIA):
        mine, theirs = remote_engine.catalog.get(cid), local.catalog.get(cid)
        assert not mine.complete and theirs.complete
        assert (mine.crs, mine.resolution) == (theirs.crs, theirs.resolution)
        assert mine.items[0].assets[mine.bands[0].name].transform == \
            theirs.items[0].assets[theirs.bands[0].name].transform
        assert [(b.name, b.dtype, str(b.nodata)) for b in mine.bands] == \
            [(b.name, b.dtype, str(b.nodata)) for b in theirs.bands]
        assert mine.interval == theirs.interval


def test_earth_search_names_and_scale(local: Engine, remote_engine: Engine) -> None:
    """``red``/``nir``/``scl`` answer to B04/B08/SCL; reflectance scale and offset applied."""
    collection = remote_engine.catalog.get(EARTH_SEARCH_ID)
    assert collection.band("B04").name == "red" and collection.band("B08").name == "nir"
    assert collection.band("SCL").name == "scl" and collection.band("red").band_id == "B04"
    assert not any(b.name.endswith("-jp2") or b.name == "thumbnail" for b in collection.bands)
    assert (collection.band("red").scale, collection.band("red").offset) == (ES_SCALE, ES_OFFSET)
    box = {"left": 300000, "right": 330000, "bottom": 2700000, "top": 2730000,
           "srs": "EPSG:32629"}

    def graph(cid: str, bands: list[str]) -> dict[str, Any]:
        return {"process_id": "filter_bands",
                "args": {"imagery": _bbox({"product_id": cid}, box), "bands": bands}}

    got = _tiff(remote_engine.execute(graph(EARTH_SEARCH_ID, ["B04", "B08", "SCL"]),
                                      {"format": "GTiff"}).content)
    raw = _tiff(local.execute(graph("s2-l2a-29rkh", ["B04", "B08", "SCL"]),
                              {"format": "GTiff"}).content)
    scaled = raw.astype(np.float64)
    scaled[:2] = raw[:2].astype(np.float32) * np.float32(ES_SCALE) + np.float32(ES_OFFSET)
    _assert_same(got, scaled)
    ndvi = {"process_id": "NDVI", "args": {"imagery": _bbox({"product_id": EARTH_SEARCH_ID},
                                                             box), "red": "B04", "nir": "B08"}}
    nd = _tiff(remote_engine.execute(ndvi, {"format": "GTiff"}).content)[0]
    red, nir = scaled[0], scaled[1]
    _assert_same(nd, ((nir - red) / (nir + red)).astype(np.float32))


def test_zonal_statistics_equal_local(shared_data: Path, local: Engine, remote_engine: Engine,
                                      tmp_path: Path) -> None:
    files = UserFiles.of(tmp_path, "local", max_file_bytes=10**8, quota_bytes=10**9)
    files.root.mkdir(parents=True)
    shutil.copy(shared_data / LANDSAT / "nycd.gpkg", files.root / "nycd.gpkg")
    graph = {"process_id": "zonal_statistics", "args": {
        "imagery": {"process_id": "filter_bands",
                    "args": {"imagery": {"product_id": LANDSAT}, "bands": ["B4"]}},
        "regions": "/users/me/files/nycd.gpkg", "func": "avg"}}
    got = remote_engine.evaluate_table(remote_engine.compile(graph), user_files=files)
    want = local.evaluate_table(local.compile(graph), user_files=files)
    assert got.row_count == want.row_count == 71 * 17
    assert list(got.columns) == list(want.columns)
    values = [(g, w) for g, w in zip(got.columns["B4_mean"], want.columns["B4_mean"],
                                      strict=True)]
    assert all((g is None) == (w is None) for g, w in values)
    numbers = [(g, w) for g, w in values if w is not None]
    assert len(numbers) > 600
    np.testing.assert_allclose([g for g, _ in numbers], [w for _, w in numbers], atol=1e-6)


def test_http_reads_are_ranged(remote_engine: Engine, files: RangeServer) -> None:
    """Every asset read is a ranged GET of the file server (no whole-file download)."""
    mark = files.log.mark()
    remote_engine.execute(landsat_ndvi("max_time"), {"format": "GTiff"})
    gets = [e for e in files.log.since(mark) if e[0] == "GET"]
    assert all(byte_range.startswith("bytes=") for _, _, byte_range, _ in gets), gets


def path_013_only() -> dict[str, Any]:
    """B4 of the Landsat scenes of WRS path 013 (a ``properties`` filter), openEO form."""
    condition = {"c": {"process_id": "eq", "arguments": {
        "x": {"from_parameter": "value"}, "y": "013"}, "result": True}}
    return {"load": {"process_id": "load_collection", "arguments": {
        "id": LANDSAT, "bands": ["B4"], "temporal_extent": ["2018-01-01", "2018-12-31"],
        "spatial_extent": {"west": 560000, "east": 640000, "south": 4480000, "north": 4540000,
                           "crs": 32618},
        "properties": {"landsat:wrs_path": {"process_graph": condition}}}, "result": True}}


def test_properties_filter_equals_local(local: Engine, remote_engine: Engine) -> None:
    """Same output grid on both sides: a filtered static collection snaps to its first
    remaining item's grid, a searched one keeps its earliest item's."""
    output = {"format": "GTiff", "resolution": 3000}
    got = _tiff(remote_engine.execute(path_013_only(), output).content)
    want = _tiff(local.execute(path_013_only(), output).content)
    _assert_same(got, want)
    assert got.shape[0] == 8  # the eight dates of path 013, not the 19 scenes


def test_properties_filter_is_sent_to_the_api(remote_engine: Engine) -> None:
    """A one-node comparison becomes the STAC ``query`` of each search: the API itself
    returns only path 013 (no server-side filter at this level)."""
    compiled = remote_engine.compile(path_013_only())
    finder = compiled.loads[0].view.collection.finder
    assert isinstance(finder, FilteredItems) and isinstance(finder.source, SearchedItems)
    assert finder.source.query == {"landsat:wrs_path": {"eq": "013"}}
    collection = remote_engine.catalog.get(LANDSAT)
    found = finder.source.search(collection.bbox, CRS.from_epsg(4326), None, None)
    assert len(found) == 8
    assert {i.properties["landsat:wrs_path"] for i in found} == {"013"}


@pytest.mark.parametrize("how", ["query", "cql2-json"])
@pytest.mark.parametrize(("query", "scenes"), [
    ({"landsat:wrs_path": {"eq": "013"}}, "013032"),
    ({"landsat:wrs_path": {"eq": "014"}, "landsat:wrs_row": {"neq": "031"}}, "014032"),
])
def test_api_applies_property_conditions(remote: Remote, shared_data: Path, tmp_path: Path,
                                         how: str, query: dict[str, Any], scenes: str
                                         ) -> None:
    """The API itself narrows each search, by the ``query`` extension or (an API without
    it) a CQL2 ``filter``: the items that come back are those of the named scenes."""
    api = StacApi(remote.api_url, api_options(Settings(data_dir=tmp_path), None))
    assert api.can_query and api.can_filter  # stac-fastapi-pgstac offers both
    api.can_query = how == "query"
    source = SearchedItems(api, LANDSAT).narrowed(query)
    found = source.search((-80.0, 35.0, -70.0, 45.0), CRS.from_epsg(4326), None, None)
    want = sorted(p.parent.name for p in (shared_data / LANDSAT).glob(f"*_{scenes}_*/*.json"))
    assert sorted(i.id for i in found) == want and len(want) >= 6
