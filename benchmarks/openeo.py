"""Benchmark the openEO 1.2 layer: the ``openeo`` client's NDVI max-time download through
``POST /openeo/1.2/result`` against the same flat graph through the draft's
``POST /jobs/execute``, in the same run on the same server. The goal is a ratio within
1.1 (the API layer costs nothing next to the evaluation). A third series posts the
client's request to ``/openeo/1.2/result`` with the same HTTP client as the draft's, to
tell the server's share from the client library's. Prints medians and ratios.

    python benchmarks/openeo.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rasterio.warp import transform_bounds

HERE = Path(__file__).resolve().parent
# this file's folder must not shadow the openeo client package (this file is openeo.py)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import openeo  # noqa: E402

from benchmarks.common import p50, running_server  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402

COLLECTION = "S2_L2A_T32TPS_20M"
BOUNDS = (652000.0, 5161000.0, 672000.0, 5181000.0)
"""The draft's first example's bbox (EPSG:32632), 1000 x 1000 pixels of 20 m."""
DATES = ["2017-01-01", "2017-02-01"]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ondemand-bench-"))
    ensure_demo_catalog(data_dir)
    west, south, east, north = transform_bounds("EPSG:32632", "EPSG:4326", *BOUNDS)
    extent = {"west": west, "south": south, "east": east, "north": north}
    target = data_dir / "openeo-bench.tif"

    with (
        running_server(data_dir) as server,
        httpx.Client(base_url=server.url, timeout=300) as client,
    ):
        con = openeo.connect(server.url, auto_validate=False)
        cube = con.load_collection(COLLECTION, spatial_extent=extent, temporal_extent=DATES)
        result = cube.ndvi(nir="B8A", red="B04").max_time()
        graph = result.save_result(format="GTiff").flat_graph()

        def through_openeo() -> None:
            result.download(target, format="GTiff")

        def through_api_1_2() -> None:
            response = client.post("/openeo/1.2/result", json={"process": {
                "process_graph": graph}})
            response.raise_for_status()

        def through_draft() -> None:
            response = client.post("/jobs/execute", json={
                "process_graph": graph, "output": {"format": "GTiff"}})
            response.raise_for_status()

        through_openeo()
        through_draft()  # warm-up: imports, thread pools, file handles
        ours: list[float] = []
        plain: list[float] = []
        draft: list[float] = []
        series = [(through_openeo, ours), (through_api_1_2, plain), (through_draft, draft)]
        for round_ in range(args.repeat):  # interleaved, each first in turn: same load for all
            for fn, samples in series[round_ % 3:] + series[:round_ % 3]:
                start = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - start)
        size = target.stat().st_size
        draft_size = len(client.post("/jobs/execute", json={
            "process_graph": graph, "output": {"format": "GTiff"}}).content)

    figures = {
        "openeo_client_result_p50_s": round(p50(ours), 4),
        "httpx_openeo_result_p50_s": round(p50(plain), 4),
        "draft_jobs_execute_p50_s": round(p50(draft), 4),
        "ratio_client": round(p50(ours) / p50(draft), 3),
        "ratio_same_http_client": round(p50(plain) / p50(draft), 3),
        "target_ratio": 1.1,
        "bytes": [size, draft_size],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
