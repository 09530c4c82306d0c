"""Benchmark ``POST /jobs/execute`` of the draft's first example against a floor.

The floor is measured in the same run: plain rasterio windowed reads of exactly the
pixels the request needs (B04 and B8A of each January 2017 date over the bbox) and
numpy for NDVI and the minimum over time. A second floor adds writing the same
DEFLATE GeoTIFF, which the server also has to do. Prints medians and ratios.

    python benchmarks/execute.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import p50, running_server, timed  # noqa: E402
from ondemand.catalog import Catalog  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402
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


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=7)
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
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
