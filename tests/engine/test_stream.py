"""Reductions over time stream date group by date group: same values, bounded memory.

On the real Slovenia NDVI series (67 dates): every running reducer equals the
whole-stack reducer applied to the evaluated time series, masks included, and the
peak memory of a 1024 x 1024 max over 67 dates is that of 17 dates (tracemalloc).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasterio.crs import CRS

from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import CACHED, Engine
from ondemand.errors import PixelLimitExceeded
from ondemand.evaluate import CompiledGraph
from ondemand.processes.math import REDUCERS
from ondemand.processes.running import RUNNING, running
from ondemand.settings import Settings
from ondemand.stream import group_size, groups
from ondemand.window import Window

COLLECTION = "s2-ndvi-slovenia"
SIDE = 1024
ALL_DATES = ("2015-01-01", "2017-12-31")
FIRST_17 = ("2015-07-01", "2016-05-10")


@pytest.fixture(scope="module")
def engine(shared_data: Path) -> Iterator[Engine]:
    catalog = Catalog.load([shared_data / COLLECTION / "collection.json"])
    eng = Engine(catalog, Settings(max_pixels=10**12))
    yield eng
    eng.close()


def window(engine: Engine, side: int = SIDE) -> Window:
    """The collection's footprint on a ``side`` x ``side`` grid (upsampled, nearest)."""
    item = engine.catalog.get(COLLECTION).items[0]
    import rasterio

    with rasterio.open(item.assets["NDVI"].href) as src:
        return Window(CRS.from_user_input(src.crs), tuple(src.bounds), side, side)


def series(dates: tuple[str, str], *, cloud_mask: bool = False) -> dict[str, Any]:
    """The NDVI time series (cloud-masked by CLM when asked), flat openEO form."""
    graph: dict[str, Any] = {
        "load": {"process_id": "load_collection",
                 "arguments": {"id": COLLECTION, "temporal_extent": list(dates)}},
        "ndvi": {"process_id": "filter_bands",
                 "arguments": {"data": {"from_node": "load"}, "bands": ["NDVI"]}},
    }
    if cloud_mask:
        graph["clm"] = {"process_id": "filter_bands",
                        "arguments": {"data": {"from_node": "load"}, "bands": ["CLM"]}}
        graph["masked"] = {"process_id": "mask", "arguments": {
            "data": {"from_node": "ndvi"}, "mask": {"from_node": "clm"}}}
    return graph


def reduced(graph: dict[str, Any], reducer: str, *, ignore_nodata: bool = True,
            draft: bool = False) -> dict[str, Any]:
    """``graph`` reduced over t: ``<reducer>_time`` (draft) or ``reduce_dimension``."""
    last = list(graph)[-1]
    out = {k: dict(v) for k, v in graph.items()}
    if draft:
        out["r"] = {"process_id": f"{reducer}_time", "arguments": {"data": {"from_node": last}},
                    "result": True}
        return {"process_graph": out}
    arguments: dict[str, Any] = {"data": {"from_parameter": "data"}}
    if reducer == "count":  # openEO's count: condition null (valid values) or true (all)
        arguments["condition"] = None if ignore_nodata else True
    else:
        arguments["ignore_nodata"] = ignore_nodata
    child = {"m": {"process_id": reducer, "result": True, "arguments": arguments}}
    out["r"] = {"process_id": "reduce_dimension", "result": True, "arguments": {
        "data": {"from_node": last}, "dimension": "t", "reducer": {"process_graph": child}}}
    return {"process_graph": out}


def streamed(compiled: CompiledGraph) -> set[str]:
    """The ids of the reductions that stream."""
    return {plan.node_id for plan in compiled.streams}


def whole(engine: Engine, graph: dict[str, Any], win: Window) -> Cube:
    last = list(graph)[-1]
    doc = {"process_graph": {k: {**v, "result": k == last} for k, v in graph.items()}}
    cube = engine.evaluate(engine.compile(doc), win)
    assert isinstance(cube, Cube) and cube.times is not None
    return cube


@pytest.mark.parametrize("reducer", RUNNING)
@pytest.mark.parametrize("ignore_nodata", [True, False])
def test_streamed_equals_whole_stack(engine: Engine, reducer: str, ignore_nodata: bool) -> None:
    win = window(engine, 96)
    graph = series(ALL_DATES, cloud_mask=True)
    stack = whole(engine, graph, win)
    assert len(stack.times or ()) == 67
    compiled = engine.compile(reduced(graph, reducer, ignore_nodata=ignore_nodata))
    assert streamed(compiled) == {"r"}
    got = engine.evaluate(compiled, win)
    # the same graph evaluated on the whole time series, and the reducer on the stack
    stacked = engine.evaluate(replace(compiled, streams=()), win)
    for want in (stacked.data[0], REDUCERS[reducer](stack.data, ignore_nodata)):
        assert got.times is None and got.bands == ("NDVI",)
        assert got.data.dtype == want.dtype
        np.testing.assert_array_equal(np.ma.getmaskarray(got.data[0]), np.ma.getmaskarray(want))
        if reducer == "sd":  # running moments: equal up to float rounding
            np.testing.assert_allclose(got.data[0].filled(0), want.filled(0), rtol=1e-5,
                                       atol=1e-7)
        else:
            np.testing.assert_array_equal(got.data[0].filled(0), want.filled(0))


def test_masks_travel_a_cloudy_date_does_not_count(engine: Engine) -> None:
    win = window(engine, 64)
    masked = whole(engine, series(ALL_DATES, cloud_mask=True), win)
    plain = whole(engine, series(ALL_DATES), win)
    assert np.ma.getmaskarray(masked.data).sum() > np.ma.getmaskarray(plain.data).sum()
    got = engine.evaluate(engine.compile(reduced(series(ALL_DATES, cloud_mask=True), "max")), win)
    np.testing.assert_array_equal(got.data[0].filled(-9), masked.data.max(axis=0).filled(-9))
    assert not np.array_equal(got.data[0].filled(-9), plain.data.max(axis=0).filled(-9))


@pytest.mark.parametrize("reducer", RUNNING)
def test_running_reducers_fold_like_the_stack(reducer: str) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(9, 2, 5, 6)).astype(np.float32)
    values[3, 0, 1, 1] = np.nan  # unmasked NaN: ignored like a masked value
    mask = rng.random(values.shape) < 0.4
    mask[:, 1, 2, 2] = True  # never valid
    data = np.ma.MaskedArray(values, mask=mask)
    for ignore in (True, False):
        fold = running(reducer, ignore)
        for layer in data:
            fold.add(layer)
        want = REDUCERS[reducer](data, ignore)
        got = fold.result()
        np.testing.assert_array_equal(got.mask, np.ma.getmaskarray(want))
        np.testing.assert_allclose(got.filled(0), want.filled(0), rtol=1e-6)


def test_draft_time_processes_stream_too(engine: Engine) -> None:
    compiled = engine.compile(reduced(series(FIRST_17), "min", draft=True))
    assert [(p.node_id, p.reducer) for p in compiled.streams] == [("r", "min")]


def test_median_and_mixed_graphs_stay_whole_stack(engine: Engine) -> None:
    assert not engine.compile(reduced(series(FIRST_17), "median")).streams
    graph = series(FIRST_17)
    graph["mx"] = {"process_id": "max_time", "arguments": {"data": {"from_node": "ndvi"}}}
    graph["diff"] = {"process_id": "subtract", "arguments": {
        "x": {"from_node": "ndvi"}, "y": {"from_node": "mx"}}}
    doc = reduced(graph, "min")
    compiled = engine.compile(doc)
    # the outer min reads a difference with a reduction; the NDVI series is held whole
    # for the difference anyway, so its maximum reduces that instead of reading again
    assert not compiled.streams
    del graph["diff"]
    assert streamed(engine.compile({"process_graph": {
        **graph, "mx": {**graph["mx"], "result": True}}})) == {"mx"}


def peak_bytes(engine: Engine, dates: tuple[str, str]) -> tuple[int, Cube]:
    compiled = engine.compile(reduced(series(dates), "max"))
    win = window(engine)
    gc.collect()
    tracemalloc.start()
    try:
        result = engine.evaluate(compiled, win)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, Cube)
    return peak, result


def test_peak_memory_does_not_grow_with_dates(engine: Engine) -> None:
    peak_17, small = peak_bytes(engine, FIRST_17)
    peak_67, large = peak_bytes(engine, ALL_DATES)
    one_layer = SIDE * SIDE * 4
    assert peak_67 > one_layer  # tracemalloc sees the arrays
    assert peak_67 < 1.5 * peak_17, (peak_17, peak_67)
    # the whole stack of 67 dates alone (float32 values + mask) would be far larger
    assert peak_67 < 67 * SIDE * SIDE * 5 / 4
    stack = whole(engine, series(ALL_DATES), window(engine)).data
    np.testing.assert_array_equal(large.data[0].filled(-9), REDUCERS["max"](stack).filled(-9))
    assert not np.array_equal(small.data[0].filled(-9), large.data[0].filled(-9))


def test_limit_counts_what_a_pass_holds_not_the_dates(shared_data: Path) -> None:
    catalog = Catalog.load([shared_data / COLLECTION / "collection.json"])
    per_date = SIDE * SIDE
    eng = Engine(catalog, Settings(max_pixels=8 * per_date))
    try:
        win = window(eng)
        got = eng.evaluate(eng.compile(reduced(series(ALL_DATES), "max")), win)
        assert isinstance(got, Cube)  # 67 dates, held a few at a time
        with pytest.raises(PixelLimitExceeded, match="at once"):
            eng.evaluate(eng.compile(reduced(series(ALL_DATES), "median")), win)
    finally:
        eng.close()


def test_groups_are_bounded_and_ordered() -> None:
    assert group_size(SIDE * SIDE) == 4
    assert group_size(256 * 256) == 8
    assert group_size(10**9) == 1
    assert groups(list(range(10)), 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # type: ignore[arg-type]


def landsat_max_ndvi(reducer: str) -> dict[str, Any]:
    return {"process_graph": {
        "load": {"process_id": "load_collection", "arguments": {"id": "landsat8-ny-2018"}},
        "ndvi": {"process_id": "ndvi", "arguments": {
            "data": {"from_node": "load"}, "red": "B4", "nir": "B5"}},
        "r": {"process_id": f"{reducer}_time", "arguments": {"data": {"from_node": "ndvi"}},
              "result": True},
    }}


def test_landsat_max_ndvi_1024_fits_the_default_limit(shared_data: Path) -> None:
    catalog = Catalog.load([shared_data / "landsat8-ny-2018" / "collection.json"])
    eng = Engine(catalog, Settings())  # the default limits of synchronous requests
    try:
        win = Window(CRS.from_epsg(32618), (480000.0, 4400000.0, 780000.0, 4800000.0),
                     SIDE, SIDE)
        compiled = eng.compile(landsat_max_ndvi("max"))
        assert len(eng.evaluate(compiled, win, policy=CACHED).data) == 1
        got = eng.evaluate(compiled, win)  # 17 dates x 2 bands x 1024^2 = 35.7 M read
        series_doc = {"process_graph": {k: {**v, "result": k == "ndvi"}
                                        for k, v in landsat_max_ndvi("max")["process_graph"]
                                        .items() if k != "r"}}
        stack = eng.evaluate(eng.compile(series_doc), win, policy=CACHED)
        assert len(stack.times) == 17
        want = REDUCERS["max"](stack.data)
        np.testing.assert_array_equal(got.data[0].filled(-9), want.filled(-9))
        with pytest.raises(PixelLimitExceeded, match="35,651,584 pixels at once"):
            eng.evaluate(eng.compile(landsat_max_ndvi("median")), win)
    finally:
        eng.close()


class ReadSpy:
    """Wraps a reader's ``read_cube``: how many dates each read holds."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dates: list[int] = []
        real = engine.reader.read_cube

        def read_cube(collection: Any, acquisitions: Any, *args: Any, **kwargs: Any) -> Cube:
            self.dates.append(len(acquisitions))
            return real(collection, acquisitions, *args, **kwargs)

        monkeypatch.setattr(engine.reader, "read_cube", read_cube)


def test_tiles_stream_through_the_one_evaluator(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ondemand.layer import make_layer
    from ondemand.tiles import render_tile
    from ondemand.tms import native_tms, tile_window, zoom_range

    layer = make_layer("max", "Max NDVI", engine.compile(reduced(series(ALL_DATES), "max")))
    tms = native_tms(layer)
    z = zoom_range(layer, tms)[1]
    west, south, east, north = layer.bounds_wgs84
    tile = tms.tile((west + east) / 2, (south + north) / 2, z)
    spy = ReadSpy(engine, monkeypatch)
    content = render_tile(engine, layer, tms, z, tile.x, tile.y, "tif").content
    assert sum(spy.dates) == 67 and max(spy.dates) <= 8  # a group of dates per read
    import rasterio

    with rasterio.MemoryFile(content) as mem, mem.open() as src:
        got = src.read(1, masked=True)
    win = tile_window(tms, z, tile.x, tile.y)
    stack = whole(engine, series(ALL_DATES), win).data
    np.testing.assert_array_equal(got.filled(-9), REDUCERS["max"](stack)[0].filled(-9))


def test_batch_chunks_stream_through_the_one_evaluator(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from ondemand.batch.worker import ChunkTask, EngineSpec, evaluate_chunk, worker_engine
    from ondemand.formats import parse_output

    spec = EngineSpec((str(shared_data / COLLECTION / "collection.json"),), Settings())
    chunk_engine = worker_engine(spec)
    win = window(chunk_engine, 300)
    doc = reduced(series(ALL_DATES), "mean")
    spy = ReadSpy(chunk_engine, monkeypatch)
    task = ChunkTask(spec, json.dumps(doc), parse_output(None), None, win)
    result = evaluate_chunk(task)
    assert sum(spy.dates) == 67 and max(spy.dates) <= 8
    stack = whole(chunk_engine, series(ALL_DATES), win).data
    want = REDUCERS["mean"](stack)[0]
    assert result.values is not None and result.values.shape == (1, 300, 300)
    valid = ~np.ma.getmaskarray(want)
    assert valid.mean() > 0.5
    np.testing.assert_array_equal(result.values[0][valid], want.data[valid])


@pytest.mark.parametrize("reducer", [*RUNNING, "median"])
def test_a_cube_filtered_to_no_date_reduces_to_no_data(engine: Engine, reducer: str) -> None:
    graph = series(FIRST_17)
    graph["none"] = {"process_id": "filter_temporal", "arguments": {
        "data": {"from_node": "ndvi"}, "extent": ["2030-01-01", "2030-12-31"]}}
    graph["ndvi"]["process_id"] = "ndvi"
    graph["ndvi"]["arguments"] = {"data": {"from_node": "load"}, "red": "NDVI", "nir": "NDVI"}
    compiled = engine.compile(reduced(graph, reducer))
    assert streamed(compiled) == (set() if reducer == "median" else {"r"})
    got = engine.evaluate(compiled, window(engine, 16))
    assert got.data.shape == (1, 1, 16, 16)
    if reducer == "count":
        assert (got.data == 0).all() and not got.data.mask.any()
    else:
        assert got.data.mask.all()
