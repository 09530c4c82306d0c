"""The engine facade: the result kind it tells, and evaluation policies (limits, cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer
from rasterstats import zonal_stats

from ondemand.cache import TileCache
from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import CACHED, LIMITED, Engine, Policy, ResultKind
from ondemand.errors import ArgumentInvalid, OutputFormatUnsupported, PixelLimitExceeded
from ondemand.formats import parse_output
from ondemand.settings import Settings
from ondemand.window import Window

COLLECTION = "s2-l1c-18svg"
NDVI = {"process_id": "NDVI",
        "args": {"imagery": {"product_id": COLLECTION}, "red": "B04", "nir": "B08"}}
SQUARE = {"type": "Polygon", "coordinates": [[
    [-75.72, 37.743], [-75.71, 37.743], [-75.71, 37.751], [-75.72, 37.751], [-75.72, 37.743]]]}
ZONAL = {"process_id": "zonal_statistics", "args": {
    "imagery": {"process_id": "filter_bands",
                "args": {"imagery": {"product_id": COLLECTION}, "bands": ["B04"]}},
    "regions": SQUARE}}
WINDOW_BOUNDS = (436000.0, 4177000.0, 438560.0, 4179560.0)


@pytest.fixture()
def engine(shared_data: Path, tmp_path: Path) -> Iterator[Engine]:
    catalog = Catalog.load([shared_data / COLLECTION / "collection.json"])
    cache = TileCache(tmp_path / "cache", 10**9)
    eng = Engine(catalog, Settings(max_pixels=100_000), cache)
    yield eng
    eng.close()
    cache.close()


@pytest.mark.parametrize(
    ("graph", "kind"),
    [
        pytest.param(NDVI, ResultKind.RASTER, id="ndvi"),
        pytest.param({"process_id": "min_time", "args": {"imagery": NDVI}}, ResultKind.RASTER,
                     id="reduction"),
        pytest.param({"product_id": COLLECTION}, ResultKind.RASTER, id="collection"),
        pytest.param(ZONAL, ResultKind.TABLE, id="zonal-statistics"),
    ],
)
def test_the_engine_tells_the_result_kind(
    engine: Engine, graph: dict[str, Any], kind: ResultKind
) -> None:
    assert engine.result_kind(engine.compile(graph)) is kind


def test_a_result_neither_raster_nor_table_is_refused(engine: Engine) -> None:
    compiled = engine.compile({"process_id": "add", "args": {"x": 1, "y": 2}})
    with pytest.raises(ArgumentInvalid, match="returns a number, neither a raster nor a table"):
        engine.result_kind(compiled)


@pytest.mark.parametrize(
    ("kind", "fmt", "allowed"),
    [
        pytest.param(ResultKind.RASTER, "GTiff", True, id="raster-gtiff"),
        pytest.param(ResultKind.RASTER, "JSON", True, id="raster-json"),
        pytest.param(ResultKind.RASTER, "CSV", False, id="raster-csv"),
        pytest.param(ResultKind.TABLE, "GPKG", True, id="table-gpkg"),
        pytest.param(ResultKind.TABLE, "JSON", True, id="table-json"),
        pytest.param(ResultKind.TABLE, "PNG", False, id="table-png"),
    ],
)
def test_each_kind_takes_its_formats(kind: ResultKind, fmt: str, allowed: bool) -> None:
    spec = parse_output({"format": fmt})
    if allowed:
        kind.check_format(spec)
        return
    with pytest.raises(OutputFormatUnsupported) as info:
        kind.check_format(spec)
    assert f"returns a {kind.value}" in info.value.message
    assert ", ".join(kind.formats) in info.value.message


def test_a_limited_evaluation_cannot_use_the_cache() -> None:
    with pytest.raises(ValueError, match="limits must hold"):
        Policy(limits=True, cache=True)
    assert (LIMITED.limits, LIMITED.cache) == (True, False)
    assert (CACHED.limits, CACHED.cache) == (False, True)
    assert not Policy(limits=False, cache=False).cache


def test_limits_hold_whatever_the_cache_holds(engine: Engine) -> None:
    compiled = engine.compile(NDVI)
    window = Window(engine.catalog.get(COLLECTION).crs, WINDOW_BOUNDS, 256, 256)
    cached = engine.evaluate(compiled, window, policy=CACHED)  # 2 bands x 65,536 pixels
    assert isinstance(cached, Cube)
    again = engine.evaluate(compiled, window, policy=CACHED)
    np.testing.assert_array_equal(np.ma.getmaskarray(again.data), np.ma.getmaskarray(cached.data))
    with pytest.raises(PixelLimitExceeded, match="over the limit of 100,000"):
        engine.evaluate(compiled, window, policy=LIMITED)


def test_evaluate_table_returns_the_zonal_table(engine: Engine, shared_data: Path) -> None:
    table = engine.evaluate_table(engine.compile(ZONAL), policy=CACHED)
    assert list(table.columns) == ["source", "feature", "date", "B04_mean"]
    assert table.records()[0]["source"] == "inline"
    # independent: rasterstats on the source file, the polygon in the file's CRS
    item = engine.catalog.get(COLLECTION).items[0]
    polygon = shapely.geometry.shape(SQUARE)
    to_utm = Transformer.from_crs(4326, 32618, always_xy=True)
    utm = shapely.transform(polygon, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
    expected = zonal_stats([utm], item.assets["B04"].href, nodata=0, stats=["mean"])
    assert table.columns["date"] == [item.datetime]
    assert table.columns["B04_mean"][0] == pytest.approx(expected[0]["mean"], rel=1e-6)


def test_evaluate_table_refuses_a_raster_graph(engine: Engine) -> None:
    with pytest.raises(ArgumentInvalid, match="not a table"):
        engine.evaluate_table(engine.compile(NDVI), policy=CACHED)
