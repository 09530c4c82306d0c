"""The cache of intermediates: per-date reads and results of small windows."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ondemand.arrays import cube_from_bytes, cube_to_bytes
from ondemand.cache import TileCache
from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import CACHED, Engine
from ondemand.read import RasterReader
from ondemand.settings import Settings
from ondemand.window import Window

GRAPH = {
    "process_id": "NDVI",
    "args": {"imagery": {"product_id": "s2-l1c-18svg"}, "red": "B04", "nir": "B08"},
}
WINDOW_BOUNDS = (436000.0, 4177000.0, 438560.0, 4179560.0)


@pytest.fixture()
def catalog_copy(shared_data: Path, tmp_path: Path) -> Path:
    target = tmp_path / "s2"
    shutil.copytree(shared_data / "s2-l1c-18svg", target)
    return target / "collection.json"


@pytest.fixture()
def engine(catalog_copy: Path, tmp_path: Path) -> Iterator[tuple[Engine, list[int]]]:
    eng = Engine(Catalog.load([catalog_copy]), Settings(), TileCache(tmp_path / "cache", 10**9))
    reads: list[int] = []
    original = RasterReader.read_cube

    def counting(self: RasterReader, *args: Any, **kwargs: Any) -> Cube:
        reads.append(1)
        return original(self, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(RasterReader, "read_cube", counting)
    yield eng, reads
    mp.undo()
    eng.close()


def _window(engine: Engine) -> Window:
    return Window(engine.catalog.get("s2-l1c-18svg").crs, WINDOW_BOUNDS, 256, 256)


def test_cube_round_trip_is_exact(engine: tuple[Engine, list[int]]) -> None:
    eng, _ = engine
    cube = eng.evaluate(eng.compile(GRAPH), _window(eng), policy=CACHED)
    back = cube_from_bytes(cube_to_bytes(cube))
    np.testing.assert_array_equal(back.data.data, cube.data.data)
    np.testing.assert_array_equal(back.data.mask, cube.data.mask)
    assert (back.times, back.bands, back.crs, back.transform) == (
        cube.times,
        cube.bands,
        cube.crs,
        cube.transform,
    )


def test_second_evaluation_reads_nothing(engine: tuple[Engine, list[int]]) -> None:
    eng, reads = engine
    compiled, window = eng.compile(GRAPH), _window(eng)
    first = eng.evaluate(compiled, window, policy=CACHED)
    assert len(reads) == 1
    second = eng.evaluate(compiled, window, policy=CACHED)
    assert len(reads) == 1
    np.testing.assert_array_equal(first.data.filled(np.nan), second.data.filled(np.nan))


def test_another_graph_reuses_the_same_reads(engine: tuple[Engine, list[int]]) -> None:
    eng, reads = engine
    window = _window(eng)
    eng.evaluate(eng.compile(GRAPH), window, policy=CACHED)
    ratio = {
        "process_id": "band_math",
        "args": {"imagery": {"product_id": "s2-l1c-18svg"}, "expression": "B08 / B04"},
    }
    # band_math reads B04 and B08 in its own order: a different read, then cached too
    eng.evaluate(eng.compile(ratio), window, policy=CACHED)
    count = len(reads)
    eng.evaluate(
        eng.compile({"process_id": "min_time", "args": {"imagery": GRAPH}}), window, policy=CACHED
    )
    assert len(reads) == count  # the NDVI read of the same bands and window is reused


def test_changed_data_is_never_served_from_the_cache(
    engine: tuple[Engine, list[int]], catalog_copy: Path
) -> None:
    eng, reads = engine
    compiled, window = eng.compile(GRAPH), _window(eng)
    eng.evaluate(compiled, window, policy=CACHED)
    b04 = catalog_copy.parent / "S2A_L1C_18SVG_20160112" / "B04.tif"
    stamp = b04.stat().st_mtime + 10
    os.utime(b04, (stamp, stamp))
    changed = Engine(Catalog.load([catalog_copy]), Settings(), eng.cache)
    changed.evaluate(changed.compile(GRAPH), window, policy=CACHED)
    changed.close()
    assert len(reads) == 2


def test_large_windows_are_not_cached(engine: tuple[Engine, list[int]]) -> None:
    eng, reads = engine
    compiled = eng.compile(GRAPH)
    big = Window(
        eng.catalog.get("s2-l1c-18svg").crs, (435760.0, 4169220.0, 446000.0, 4179460.0), 1100, 1100
    )
    eng.evaluate(compiled, big, policy=CACHED)
    eng.evaluate(compiled, big, policy=CACHED)
    assert len(reads) == 2


def test_limited_evaluations_bypass_the_cache(engine: tuple[Engine, list[int]]) -> None:
    eng, reads = engine
    compiled, window = eng.compile(GRAPH), _window(eng)
    eng.evaluate(compiled, window)
    eng.evaluate(compiled, window)
    assert len(reads) == 2
