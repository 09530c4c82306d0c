"""Load test: N concurrent clients against a real ``ondemand serve --workers 2`` on 127.0.0.1.

Clients mix XYZ map tiles of several jobs, WMTS GetTile requests, job creation,
small ``/jobs/execute`` calls and file uploads, back to back for a bounded time. Prints
throughput, p50/p99 latency per kind, the answers by status (any 5xx but the documented
503 back-pressure is a bug), and the resident memory of every server process (the
supervisor, each worker and anything they start) sampled every second. Targets: zero
5xx; after warm-up (the first half of the run) every process's RSS stays within 10% of
its value at that point (30 s of a 60 s run).

    python benchmarks/load.py [--clients 16] [--seconds 60] [--workers 2] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import morecantile
import psutil

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
    return [f"{url}/{t.z}/{t.x}/{t.y}.png" for url in service_urls for t in _tiles()]


def _tiles() -> list[morecantile.Tile]:
    tms = morecantile.tms.get("WebMercatorQuad")
    return [t for z in range(10, 14) for t in tms.tiles(*AREA_WGS84, zooms=[z])]


def wmts_urls(service_url: str, layer: str) -> list[str]:
    """WMTS GetTile (KVP) URLs of the same tiles through one WMTS service."""
    return [f"{service_url}?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
            f"&STYLE=default&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad"
            f"&TILEMATRIX={t.z}&TILEROW={t.y}&TILECOL={t.x}" for t in _tiles()]


UPLOAD = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"name": "field"}, "geometry": {
        "type": "Polygon", "coordinates": [[[11.0, 46.6], [11.1, 46.6], [11.1, 46.7],
                                            [11.0, 46.6]]]}}] * 40}).encode()
"""A small GeoJSON (about 8 KiB) uploaded under a few rotating names."""

MIX = (("tile", 0.50), ("wmts", 0.15), ("submit", 0.10), ("execute", 0.10), ("upload", 0.15))
"""The share of each kind of request."""


def pick(rng: random.Random) -> str:
    """A request kind drawn by :data:`MIX`."""
    roll, total = rng.random(), 0.0
    for kind, share in MIX:
        total += share
        if roll < total:
            return kind
    return MIX[-1][0]


async def client_loop(
    client: httpx.AsyncClient,
    deadline: float,
    urls: dict[str, list[str]],
    samples: dict[str, list[float]],
    statuses: dict[str, dict[int, int]],
    rng: random.Random,
) -> None:
    """One client: requests back to back until the deadline."""
    execute_body = {
        "process_graph": use_case_1_job()["process_graph"],
        "output": {"format": "PNG", "width": 256},
    }
    while time.monotonic() < deadline:
        kind = pick(rng)
        if kind in ("tile", "wmts"):
            request = client.build_request("GET", rng.choice(urls[kind]))
        elif kind == "execute":
            request = client.build_request("POST", "/jobs/execute", json=execute_body)
        elif kind == "submit":
            request = client.build_request("POST", "/jobs", json=use_case_1_job())
        else:
            name = f"load/field-{rng.randrange(32)}.geojson"
            request = client.build_request("PUT", f"/files/me/{name}", content=UPLOAD)
        start = time.perf_counter()
        try:
            status = (await client.send(request)).status_code
        except httpx.HTTPError:
            status = 599
        samples.setdefault(kind, []).append(time.perf_counter() - start)
        counts = statuses.setdefault(kind, {})
        counts[status] = counts.get(status, 0) + 1


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return [pid]


def process_name(pid: int) -> str:
    """A short label of a process from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    if "services.cli" in text:
        return "supervisor"
    if "multiprocessing" in text and "resource_tracker" in text:
        return "resource-tracker"
    if "spawn_main" in text:
        return "server worker" if "tracker_fd" in text else "spawned"
    return text[:40]


def wait_for_workers(pid: int, workers: int, limit: float = 300.0) -> None:
    """Wait until ``workers`` worker processes exist and their memory stopped growing
    (each has loaded the application), so that the clients' connections reach all."""
    deadline = time.monotonic() + limit
    last: list[int] = []
    while time.monotonic() < deadline:
        found = [p for p in descendants(pid) if process_name(p) == "server worker"]
        sizes = [rss_bytes(p) for p in sorted(found)]
        if len(found) >= workers and sizes == last:
            return
        last = sizes
        time.sleep(2.0)
    raise RuntimeError(f"{workers} server workers did not settle in {limit} s")


def sample_rss(pid: int, stop: threading.Event,
               out: dict[int, list[tuple[float, int]]], names: dict[int, str]) -> None:
    """Record the RSS of the server and all its processes every second."""
    start = time.monotonic()
    while not stop.is_set():
        now = round(time.monotonic() - start, 1)
        for child in descendants(pid):
            if child not in names:
                names[child] = process_name(child)
            try:
                out.setdefault(child, []).append((now, rss_bytes(child)))
            except OSError:
                continue
        stop.wait(1.0)


async def run(
    base: str, clients: int, seconds: float, urls: dict[str, list[str]]
) -> tuple[dict[str, list[float]], dict[str, dict[int, int]]]:
    """Run ``clients`` loops for ``seconds``."""
    samples: dict[str, list[float]] = {}
    statuses: dict[str, dict[int, int]] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(
                client_loop(client, deadline, urls, samples, statuses, random.Random(i))
                for i in range(clients)
            )
        )
    return samples, statuses


def rss_report(rss: dict[int, list[tuple[float, int]]], names: dict[int, str],
               warm: float) -> list[dict[str, Any]]:
    """Per process: RSS at the end of warm-up, the extremes after it, the largest deviation."""
    out = []
    for pid, series in sorted(rss.items()):
        after = [b for t, b in series if t >= warm]
        if not after:
            continue
        ref = after[0]
        worst = max(abs(b - ref) for b in after) / ref if ref else 0.0
        out.append({"pid": pid, "process": names.get(pid, "?"),
                    "rss_at_warm_mib": round(ref / 2**20, 1),
                    "min_after_mib": round(min(after) / 2**20, 1),
                    "max_after_mib": round(max(after) / 2**20, 1),
                    "final_mib": round(after[-1] / 2**20, 1),
                    "max_deviation_pct": round(100 * worst, 1),
                    "within_10pct": worst <= 0.10})
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def publish(url: str) -> dict[str, list[str]]:
    """Publish the jobs as XYZ services and one as WMTS; the URLs the clients request."""
    services = []
    wmts: list[str] = []
    for n, graph in enumerate(job_graphs()):
        job = httpx.post(f"{url}/jobs", json={"process_graph": graph}, timeout=60).json()
        for kind in ("xyz", "wmts") if n == 0 else ("xyz",):
            service = httpx.post(f"{url}/services", json={"job_id": job["job_id"], "type": kind},
                                 timeout=60).json()
            if kind == "xyz":
                services.append(service["service_url"])
                continue
            caps = httpx.get(service["service_url"], timeout=60, params={
                "SERVICE": "WMTS", "REQUEST": "GetCapabilities"}).text
            layer = re.search(r"<Layer>.*?<ows:Identifier>([^<]+)</ows:Identifier>", caps, re.S)
            assert layer is not None, caps[:300]
            wmts = wmts_urls(service["service_url"], layer.group(1))
    return {"tile": tile_urls(services), "wmts": wmts}


def main() -> None:
    """Start a server on the demo data, publish jobs, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--log-level", default="warning",
                        help="the server's log level (info shows worker restarts)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ondemand-load-"))
    ensure_demo_catalog(data_dir)
    warm = args.seconds / 2
    with running_server(data_dir, "--workers", str(args.workers),
                        "--log-level", args.log_level) as server:
        wait_for_workers(server.pid, args.workers)
        urls = publish(server.url)
        before = set(descendants(server.pid))
        rss: dict[int, list[tuple[float, int]]] = {}
        names: dict[int, str] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, rss, names),
                                   daemon=True)
        sampler.start()
        try:
            samples, statuses = asyncio.run(run(server.url, args.clients, args.seconds, urls))
        finally:
            stop.set()
            sampler.join()
    total = sum(len(v) for v in samples.values())
    fives = {f"{kind} {code}": n for kind, counts in statuses.items()
             for code, n in counts.items() if code >= 500}
    memory = rss_report(rss, names, warm)
    started_during_run = sorted(set(rss) - before)
    report: dict[str, Any] = {
        "clients": args.clients,
        "workers": args.workers,
        "seconds": args.seconds,
        "requests": total,
        "throughput_per_s": round(total / args.seconds, 1),
        "statuses": {kind: dict(sorted(c.items())) for kind, c in sorted(statuses.items())},
        "server_errors_5xx": sum(n for k, n in fives.items() if not k.endswith(" 503")),
        "busy_503": sum(n for k, n in fives.items() if k.endswith(" 503")),
        "latency_s": {
            kind: {
                "n": len(values),
                "p50": round(statistics.median(values), 4),
                "p99": round(percentile(values, 99), 4),
            }
            for kind, values in sorted(samples.items())
        },
        "rss_after_warmup": memory,
        "rss_within_10pct_of_value_at_warmup": all(m["within_10pct"] for m in memory),
        "processes_started_during_run": [
            {"pid": p, "process": names.get(p, "?"),
             "first_seen_s": rss[p][0][0]} for p in started_during_run],
    }
    tile = report["latency_s"].get("tile")
    if tile:
        report["tile_p99_over_p50"] = round(tile["p99"] / tile["p50"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
