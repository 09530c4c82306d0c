"""Batch benchmark: a 20000 x 20000 float32 result on 1 and 2 local Dask workers.

Generates a 5000 x 5000 two-band test collection, then runs a min-NDVI batch job whose
output options ask for 20000 x 20000 pixels (1.6 GB of float32) through a real
``ondemand serve`` process. Reports wall time (chunks, then COG conversion), the
server's peak RSS (``VmHWM``, the assembling process) and the workers' peak RSS
(sampled), and the speed-up from 1 to 2 workers.

    python benchmarks/batch.py [--size 20000] [--workers 1 2] [--chunk 1024]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import running_server  # noqa: E402
from tests.support.cogs import make_collection  # noqa: E402

GRAPH: dict[str, Any] = {
    "process_id": "min_time",
    "args": {"imagery": {"process_id": "NDVI", "args": {
        "imagery": {"product_id": "BENCH"}, "red": "B04", "nir": "B08"}}},
}


def make_source(directory: Path, side: int = 5000) -> Path:
    rng = np.random.default_rng(0)
    bands = {
        name: (rng.integers(100, 4000, (side, side)).astype("int16"), 0.0, 0.0001, 0.0)
        for name in ("B04", "B08")
    }
    return make_collection(
        directory / "BENCH", [("a", datetime(2021, 6, 1), bands)], 32633,
        Affine(10, 0, 500000, 0, -10, 4100000), collection_id="BENCH",
    )


def peak_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run(collection: Path, workers: int, size: int, chunk: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            {"ONDEMAND_BATCH_WORKERS": str(workers), "ONDEMAND_BATCH_CHUNK_SIZE": str(chunk)}
        )
        with running_server(Path(data_dir), "--catalog", str(collection)) as server:
            http = httpx.Client(base_url=server.url, timeout=60)
            output = {"format": "GTiff", "width": size, "height": size}
            job_id = http.post("/jobs", json={"process_graph": GRAPH, "output": output}).json()[
                "job_id"]
            start = time.perf_counter()
            assert http.post(f"/jobs/{job_id}/batch").status_code == 204
            chunks_done = None
            worker_peak = 0
            while True:
                job = http.get(f"/jobs/{job_id}").json()
                children = psutil.Process(server.pid).children(recursive=True)
                rss = 0
                for child in children:
                    try:
                        rss = max(rss, child.memory_info().rss)
                    except psutil.NoSuchProcess:
                        pass
                worker_peak = max(worker_peak, rss)
                if chunks_done is None and job["progress"] >= 95:
                    chunks_done = time.perf_counter() - start
                if job["status"] not in ("queued", "running"):
                    break
                time.sleep(0.25)
            total = time.perf_counter() - start
            assert job["status"] == "finished", job
            server_peak = peak_hwm(server.pid)
            links = http.get(f"/jobs/{job_id}/batch/download").json()
            size_bytes = links[0]["file:size"]
    return {
        "total_s": total,
        "chunks_s": chunks_done or total,
        "cog_s": total - (chunks_done or total),
        "server_peak_gib": server_peak / 1024**3,
        "worker_peak_gib": worker_peak / 1024**3,
        "file_mib": size_bytes / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        collection = make_source(Path(tmp))
        results = {w: run(collection, w, args.size, args.chunk) for w in args.workers}
    print(f"batch {args.size} x {args.size} float32 (chunks {args.chunk}):")
    for workers, r in results.items():
        print(
            f"  {workers} worker(s): total {r['total_s']:.1f} s (chunks {r['chunks_s']:.1f} s, "
            f"COG {r['cog_s']:.1f} s), server peak RSS {r['server_peak_gib']:.2f} GiB, "
            f"worker peak RSS {r['worker_peak_gib']:.2f} GiB, COG {r['file_mib']:.0f} MiB"
        )
    if 1 in results and 2 in results:
        one, two = results[1], results[2]
        print(f"  speed-up 1 -> 2 workers: total {one['total_s'] / two['total_s']:.2f}x, "
              f"chunk phase {one['chunks_s'] / two['chunks_s']:.2f}x")


if __name__ == "__main__":
    main()
