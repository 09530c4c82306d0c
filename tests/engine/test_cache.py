"""The tile disk cache: hits, keys that follow graph and data changes, corruption, eviction."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ondemand.cache import TileCache, layer_fingerprint, tile_key
from ondemand.catalog import Catalog
from ondemand.engine import Engine
from ondemand.layer import Layer, make_layer
from ondemand.settings import Settings
from ondemand.tiles import prepare_tile, render_tile, tile_matrix_set, tile_style, tile_window
from tests.support.seed import use_case_1_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog, demo_data_dir: Path) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings(data_dir=demo_data_dir))
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def layer(engine: Engine) -> Layer:
    return make_layer("job1", "Min NDVI", engine.compile(use_case_1_job()["process_graph"]))


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[TileCache]:
    tile_cache = TileCache(tmp_path / "cache", 50 * 1024**2)
    yield tile_cache
    tile_cache.close()


@pytest.mark.parametrize("size", [0, 10, 100_000], ids=["empty", "small", "file-backed"])
def test_round_trip(cache: TileCache, size: int) -> None:
    content = os.urandom(size)
    cache.set("k", content)
    assert cache.get("k") == content
    assert cache.get("missing") is None


@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_second_request_hits(engine: Engine, layer: Layer, cache: TileCache, fmt: str) -> None:
    tms = tile_matrix_set(layer, "webmercator")
    started = time.perf_counter()
    cold = render_tile(engine, layer, tms, 13, 4349, 2892, fmt, cache=cache)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    warm = render_tile(engine, layer, tms, 13, 4349, 2892, fmt, cache=cache)
    warm_s = time.perf_counter() - started
    assert (cold.cached, warm.cached) == (False, True)
    assert warm.content == cold.content and warm.etag == cold.etag
    print(f"{fmt}: cold {cold_s * 1e3:.1f} ms, cached {warm_s * 1e3:.2f} ms")


def test_key_depends_on_window_format_and_style(layer: Layer) -> None:
    tms = tile_matrix_set(layer, "native")
    keys = {
        prepare_tile(layer, tms, 2, 1, 1).key,
        prepare_tile(layer, tms, 2, 1, 2).key,
        prepare_tile(layer, tms, 1, 0, 0).key,
        prepare_tile(layer, tms, 2, 1, 1, "tif").key,
        prepare_tile(layer, tms, 2, 1, 1, style=tile_style("viridis")).key,
        prepare_tile(layer, tms, 2, 1, 1, style=tile_style(rescale=[(0, 1)])).key,
        prepare_tile(layer, tile_matrix_set(layer, "webmercator"), 2, 2, 1).key,
    }
    assert len(keys) == 7
    assert prepare_tile(layer, tms, 2, 1, 1).key == prepare_tile(layer, tms, 2, 1, 1).key


def test_changed_graph_changes_key(engine: Engine, layer: Layer) -> None:
    graph = use_case_1_job()["process_graph"]
    graph["args"]["imagery"]["args"]["imagery"]["args"]["to"] = "2017-01-20"
    other = make_layer("job1", "Min NDVI", engine.compile(graph))
    same = make_layer("job9", "Other title", engine.compile(use_case_1_job()["process_graph"]))
    assert layer_fingerprint(other) != layer_fingerprint(layer)
    assert layer_fingerprint(same) == layer_fingerprint(layer)


def _layer_of(catalog_dir: Path, data_dir: Path) -> tuple[Engine, Layer]:
    catalog = Catalog.load(sorted(catalog_dir.glob("*/collection.json")))
    eng = Engine(catalog, Settings(data_dir=data_dir))
    return eng, make_layer("job1", "Min NDVI", eng.compile(use_case_1_job()["process_graph"]))


def test_changed_data_changes_key_and_serves_new_pixels(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "demo"
    name = "S2_L2A_T32TPS_20M"
    shutil.copytree(demo_data_dir / "demo" / name, copy / name)
    cache = TileCache(tmp_path / "cache", 50 * 1024**2)
    eng, before = _layer_of(copy, tmp_path)
    tms = tile_matrix_set(before, "native")
    first = render_tile(eng, before, tms, 2, 1, 1, "tif", cache=cache)
    eng.close()
    # reloading unchanged data keeps the key; an asset rewritten (new mtime) changes it
    eng, reloaded = _layer_of(copy, tmp_path)
    assert render_tile(eng, reloaded, tms, 2, 1, 1, "tif", cache=cache).cached
    eng.close()
    asset = copy / name / f"{name}_20170114" / "B8A.tif"
    # newer than every file of the item (they were written over a few seconds)
    newest = max(p.stat().st_mtime_ns for p in asset.parent.iterdir())
    os.utime(asset, ns=(asset.stat().st_atime_ns, newest + 10**9))
    eng, after = _layer_of(copy, tmp_path)
    second = render_tile(eng, after, tms, 2, 1, 1, "tif", cache=cache)
    eng.close()
    cache.close()
    assert layer_fingerprint(after) != layer_fingerprint(before)
    assert not second.cached and second.etag != first.etag


@pytest.mark.parametrize("where", ["value", "file"])
def test_corrupt_entry_is_recomputed(
    engine: Engine, layer: Layer, cache: TileCache, where: str
) -> None:
    tms = tile_matrix_set(layer, "webmercator")
    fmt = "tif" if where == "file" else "png"
    good = render_tile(engine, layer, tms, 13, 4349, 2892, fmt, cache=cache)
    tile = prepare_tile(layer, tms, 13, 4349, 2892, fmt)
    if where == "file":  # entries over 32 kB live in their own file; make this one big
        cache.set(tile.key, good.content + bytes(40_000))
    if where == "value":
        stored = cache._cache.get(tile.key)
        cache._cache.set(tile.key, stored[:-1] + bytes([stored[-1] ^ 0xFF]))
    else:
        files = [p for p in cache.directory.rglob("*.val")]
        assert len(files) == 1  # the GeoTIFF tile is large enough to live in its own file
        data = bytearray(files[0].read_bytes())
        data[len(data) // 2] ^= 0xFF
        files[0].write_bytes(bytes(data))
    assert cache.get(tile.key) is None
    again = render_tile(engine, layer, tms, 13, 4349, 2892, fmt, cache=cache)
    assert not again.cached and again.content == good.content
    assert render_tile(engine, layer, tms, 13, 4349, 2892, fmt, cache=cache).cached


def test_missing_entry_file_is_recomputed(cache: TileCache) -> None:
    cache.set("big", os.urandom(100_000))
    for path in cache.directory.rglob("*.val"):
        path.unlink()
    assert cache.get("big") is None


def test_size_limit_evicts_least_recently_used(tmp_path: Path) -> None:
    limit = 2 * 1024**2
    cache = TileCache(tmp_path / "small", limit)
    blob = os.urandom(100_000)
    cache.set("keep", blob)
    for i in range(60):
        cache.get("keep")  # recently used
        cache.set(f"k{i}", blob)
    volume = cache.volume
    kept = cache.get("keep")
    oldest = cache.get("k0")
    cache.close()
    assert volume <= limit * 1.2
    assert kept == blob and oldest is None


def test_shared_between_processes(tmp_path: Path) -> None:
    cache = TileCache(tmp_path / "shared", 10 * 1024**2)
    code = (
        "import sys; from pathlib import Path; from ondemand.cache import TileCache; "
        "c = TileCache(Path(sys.argv[1]), 10 * 1024**2); c.set('from-child', b'pixels' * 9999); "
        "c.close()"
    )
    env: dict[str, Any] = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "shared")], check=True, env=env)
    assert cache.get("from-child") == b"pixels" * 9999
    cache.close()


def test_tile_key_is_hash_of_inputs(layer: Layer) -> None:
    tms = tile_matrix_set(layer, "native")
    window = tile_window(tms, 2, 1, 1)
    key = tile_key(layer, window, "png", "None|None|None")
    assert len(key) == 64 and int(key, 16) >= 0
    assert prepare_tile(layer, tms, 2, 1, 1).key == key
