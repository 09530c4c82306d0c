"""Benchmark ``POST /jobs/execute`` of the draft's first example against a floor.

The floor is measured in the same run: plain rasterio windowed reads of exactly the
pixels the request needs (B04 and B8A of each January 2017 date over the bbox) and
numpy for NDVI and the minimum over time. A second floor adds writing the same
DEFLATE GeoTIFF, which the server also has to do. Prints medians and ratios.

Then the streamed reduction over time: the maximum NDVI over the 67 dates of
``../shared/data/s2-ndvi-slovenia`` on a 1024 x 1024 grid, evaluated by the engine
(the evaluator every endpoint uses), against its floor (rasterio reads of each date
onto the grid + a numpy running maximum): wall time and peak memory (tracemalloc:
numpy and Python allocations) of both, and their ratios.

    python benchmarks/execute.py [--data-dir DIR] [--repeat N] [--shared-data DIR]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import p50, running_server, timed  # noqa: E402
from ondemand.catalog import Catalog  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402
from ondemand.engine import Engine  # noqa: E402
from ondemand.settings import Settings  # noqa: E402
from ondemand.window import Window  # noqa: E402
from tests.support.seed import first_execute_example  # noqa: E402

BOUNDS = (652000.0, 5161000.0, 672000.0, 5181000.0)
START, END = datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 1, 31, 23, 59, 59, tzinfo=UTC)


def floor(catalog: Catalog, encode: bool) -> None:
    """Read exactly the needed pixels with rasterio, NDVI + min with numpy (+ GeoTIFF)."""
    collection = catalog.get("S2_L2A_T32TPS_20M")
    layers = []
    transform = None
    for item in collection.items:
        if not START <= item.datetime <= END:
            continue
        pair = []
        for band in ("B04", "B8A"):
            with rasterio.open(item.assets[band].href) as src:
                window = (
                    from_bounds(*BOUNDS, transform=src.transform).round_offsets().round_lengths()
                )
                transform = src.window_transform(window)
                pair.append(
                    np.ma.masked_equal(src.read(1, window=window), 0).astype(np.float32)
                    * np.float32(1e-4)
                )
        red, nir = pair
        layers.append((nir - red) / (nir + red))
    result = np.ma.stack(layers).min(axis=0)
    if encode:
        with (
            MemoryFile() as memfile,
            memfile.open(
                driver="GTiff",
                width=result.shape[1],
                height=result.shape[0],
                count=1,
                dtype="float32",
                crs="EPSG:32632",
                transform=transform,
                nodata=float("nan"),
                tiled=True,
                compress="deflate",
            ) as dst,
        ):
            dst.write(result.filled(np.nan).astype(np.float32), 1)


SIDE = 1024
MAX_NDVI = {"process_graph": {
    "load": {"process_id": "load_collection",
             "arguments": {"id": "s2-ndvi-slovenia", "bands": ["NDVI"]}},
    "max": {"process_id": "max_time", "arguments": {"data": {"from_node": "load"}},
            "result": True},
}}


def measured(fn: Callable[[], Any]) -> tuple[float, int]:
    """Wall seconds and tracemalloc peak bytes of one call of ``fn``."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fn()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return elapsed, peak


def max_ndvi_floor(catalog: Catalog, window: Window) -> np.ndarray:
    """Each date read onto the grid with rasterio (nearest), then a numpy running maximum."""
    acc = np.full((window.height, window.width), -np.inf, np.float32)
    for item in catalog.get("s2-ndvi-slovenia").items:
        with rasterio.open(item.assets["NDVI"].href) as src:
            pixels = from_bounds(*window.bounds, transform=src.transform)
            values = src.read(1, window=pixels, out_shape=(window.height, window.width))
        np.fmax(acc, values, out=acc)  # NaN (no data) never wins
    return acc


def streamed_max_ndvi(shared: Path, repeat: int) -> dict[str, float]:
    """Time and peak memory of the 67-date max NDVI, ours against the floor."""
    catalog = Catalog.load([shared / "s2-ndvi-slovenia" / "collection.json"])
    engine = Engine(catalog, Settings())
    item = catalog.get("s2-ndvi-slovenia").items[0]
    with rasterio.open(item.assets["NDVI"].href) as src:
        window = Window(src.crs, tuple(src.bounds), SIDE, SIDE)
    compiled = engine.compile(MAX_NDVI)
    try:
        engine.evaluate(compiled, window)  # warm-up: file handles, thread pool
        ours = [measured(lambda: engine.evaluate(compiled, window)) for _ in range(repeat)]
        floor_runs = [measured(lambda: max_ndvi_floor(catalog, window)) for _ in range(repeat)]
    finally:
        engine.close()
    ours_s, floor_s = p50([t for t, _ in ours]), p50([t for t, _ in floor_runs])
    ours_mb = max(m for _, m in ours) / 2**20
    floor_mb = max(m for _, m in floor_runs) / 2**20
    return {
        "max_ndvi_67_dates_1024px_p50_s": round(ours_s, 4),
        "max_ndvi_67_dates_1024px_peak_mib": round(ours_mb, 1),
        "floor_reads_running_max_p50_s": round(floor_s, 4),
        "floor_reads_running_max_peak_mib": round(floor_mb, 1),
        "max_ndvi_ratio_vs_floor_time": round(ours_s / floor_s, 3),
        "max_ndvi_ratio_vs_floor_memory": round(ours_mb / floor_mb, 3),
        "whole_stack_would_hold_mib": round(67 * SIDE * SIDE * 5 / 2**20, 1),
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--shared-data", type=Path,
        default=Path(__file__).resolve().parents[1].parent / "shared" / "data",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ondemand-bench-"))
    catalog = Catalog.load(ensure_demo_catalog(data_dir))
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": "GTiff", "tiled": True, "compress": "deflate"}

    with (
        running_server(data_dir) as server,
        httpx.Client(base_url=server.url, timeout=300) as client,
    ):

        def request() -> None:
            response = client.post("/jobs/execute", json=body)
            response.raise_for_status()

        request()  # warm-up: imports, thread pools, file handles
        floor(catalog, encode=True)
        ours = timed(request, args.repeat)
        reads = timed(lambda: floor(catalog, encode=False), args.repeat)
        reads_encode = timed(lambda: floor(catalog, encode=True), args.repeat)

    figures = {
        "execute_p50_s": round(p50(ours), 4),
        "floor_reads_numpy_p50_s": round(p50(reads), 4),
        "floor_reads_numpy_geotiff_p50_s": round(p50(reads_encode), 4),
        "ratio_vs_floor": round(p50(ours) / p50(reads), 3),
        "ratio_vs_floor_with_encode": round(p50(ours) / p50(reads_encode), 3),
        "target_ratio": 1.3,
    }
    if (args.shared_data / "s2-ndvi-slovenia").is_dir():
        figures.update(streamed_max_ndvi(args.shared_data, args.repeat))
    else:
        print(f"no {args.shared_data}/s2-ndvi-slovenia: the streamed max NDVI is skipped")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
