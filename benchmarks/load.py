"""Load test: N concurrent clients against a real server on 127.0.0.1, for a bounded time.

Clients mix map tiles of several jobs (most requests), small ``/jobs/execute`` calls
and job submissions. Prints throughput, p50/p99 latency per kind, the number of
errors (any 5xx is a bug), and the server's resident memory sampled every second.
Targets: zero 5xx, RSS flat after warm-up, p99 tile latency under 5x p50 at 16 clients.

    python benchmarks/load.py [--clients 16] [--seconds 30] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import morecantile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import rss_bytes, running_server  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402
from tests.support.seed import use_case_1_job  # noqa: E402

AREA_WGS84 = (10.99, 46.59, 11.24, 46.76)
"""Where the seed job's bbox lies (lon/lat)."""


def job_graphs() -> list[dict[str, Any]]:
    """Three different jobs: min NDVI, an NDVI time series, a cloud-masked band ratio."""
    min_ndvi = use_case_1_job()["process_graph"]
    series = copy.deepcopy(min_ndvi["args"]["imagery"])
    ratio = {
        "process_id": "band_math",
        "args": {
            "imagery": copy.deepcopy(min_ndvi["args"]["imagery"]["args"]["imagery"]),
            "expression": "B8A / (B04 + 1e-3)",
        },
    }
    return [min_ndvi, series, {"process_id": "max_time", "args": {"imagery": ratio}}]


def tile_urls(service_urls: list[str]) -> list[str]:
    """XYZ tiles over the jobs' area at zooms 10-13, for every service."""
    tms = morecantile.tms.get("WebMercatorQuad")
    tiles = [t for z in range(10, 14) for t in tms.tiles(*AREA_WGS84, zooms=[z])]
    return [f"{url}/{t.z}/{t.x}/{t.y}.png" for url in service_urls for t in tiles]


async def client_loop(
    client: httpx.AsyncClient,
    deadline: float,
    tiles: list[str],
    samples: dict[str, list[float]],
    errors: dict[str, int],
    rng: random.Random,
) -> None:
    """One client: requests back to back until the deadline."""
    execute_body = {
        "process_graph": use_case_1_job()["process_graph"],
        "output": {"format": "PNG", "width": 256},
    }
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.85:
            kind, request = "tile", client.build_request("GET", rng.choice(tiles))
        elif roll < 0.95:
            kind, request = (
                "execute",
                client.build_request("POST", "/jobs/execute", json=execute_body),
            )
        else:
            kind, request = "submit", client.build_request("POST", "/jobs", json=use_case_1_job())
        start = time.perf_counter()
        try:
            response = await client.send(request)
            status = response.status_code
        except httpx.HTTPError:
            status = 599
        samples.setdefault(kind, []).append(time.perf_counter() - start)
        if status >= 500 and status != 503:
            errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
        elif status == 503:
            errors["503 busy (back-pressure)"] = errors.get("503 busy (back-pressure)", 0) + 1
        elif status >= 400:
            errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1


def sample_rss(pid: int, stop: threading.Event, out: list[tuple[float, int]]) -> None:
    """Record the server's RSS every second."""
    start = time.monotonic()
    while not stop.is_set():
        out.append((round(time.monotonic() - start, 1), rss_bytes(pid)))
        stop.wait(1.0)


async def run(
    base: str, clients: int, seconds: float, tiles: list[str]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Run ``clients`` loops for ``seconds``."""
    samples: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(
                client_loop(client, deadline, tiles, samples, errors, random.Random(i))
                for i in range(clients)
            )
        )
    return samples, errors


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    """Start a server on the demo data, publish jobs, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ondemand-load-"))
    ensure_demo_catalog(data_dir)
    with running_server(data_dir) as server:
        services = []
        for graph in job_graphs():
            job = httpx.post(f"{server.url}/jobs", json={"process_graph": graph}).json()
            service = httpx.post(
                f"{server.url}/services", json={"job_id": job["job_id"], "type": "xyz"}
            ).json()
            services.append(service["service_url"])
        tiles = tile_urls(services)
        rss: list[tuple[float, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, rss), daemon=True)
        sampler.start()
        try:
            samples, errors = asyncio.run(run(server.url, args.clients, args.seconds, tiles))
        finally:
            stop.set()
            sampler.join()
    total = sum(len(v) for v in samples.values())
    report: dict[str, Any] = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": total,
        "throughput_per_s": round(total / args.seconds, 1),
        "errors": errors,
        "server_errors_5xx": sum(
            n for k, n in errors.items() if k.split()[-1].startswith("5") and "busy" not in k
        ),
        "latency_s": {
            kind: {
                "n": len(values),
                "p50": round(statistics.median(values), 4),
                "p99": round(percentile(values, 99), 4),
            }
            for kind, values in samples.items()
        },
        "rss_mib": [(t, round(b / 2**20)) for t, b in rss[:: max(1, len(rss) // 15)]],
    }
    tile = report["latency_s"].get("tile")
    if tile:
        report["tile_p99_over_p50"] = round(tile["p99"] / tile["p50"], 2)
    warm = [b for t, b in rss if t >= min(10.0, args.seconds / 3)]
    if warm:
        report["rss_growth_after_warmup_mib"] = round((warm[-1] - warm[0]) / 2**20, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
