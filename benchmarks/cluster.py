"""Several-machine benchmark: tile throughput on 1 vs 2 servers, batch time on 1 vs 2 workers.

Starts a real PostgreSQL (initdb in a temporary folder), a Dask scheduler with workers,
and ``ondemand serve`` processes on 127.0.0.2 / 127.0.0.3 sharing the store and a results
folder, as ``docs/deployment.md`` describes. Each configuration starts with fresh servers
(empty tile caches), so every tile is computed once.

    python benchmarks/cluster.py [--clients 8] [--zoom 17] [--size 2000]

On one machine the second server and the second worker share its cores with the first:
the ratios show the overhead of the distributed set-up there, and scaling only on
separate machines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.batchdata import MIN_NDVI, done, make_series, wait_for  # noqa: E402
from tests.support.cluster import Host, Shared, dask_cluster, tiles_over_the_data  # noqa: E402
from tests.support.postgres import Postgres, running_postgres  # noqa: E402

ADDRESSES = ("127.0.0.2", "127.0.0.3")


def deployment(root: Path, postgres: Postgres, scheduler: str, catalog: Path, servers: int,
               name: str, chunk: int) -> tuple[list[Host], Shared]:
    """Fresh servers (own data dirs) over a fresh database and results folder."""
    shared = Shared(postgres.create_database(name), root / name / "results",
                    root / name / "files", scheduler, catalog)
    env = {"ONDEMAND_BATCH_CHUNK_SIZE": str(chunk)}
    hosts = [Host(ADDRESSES[i], root / name / f"server{i}", shared, **env)
             for i in range(servers)]
    return hosts, shared


def tile_rate(hosts: list[Host], zoom: int, clients: int) -> tuple[float, int]:
    """Tiles per second of ``clients`` threads spreading distinct tiles over the servers."""
    first = hosts[0]
    job = first.http.post("/jobs", json={"process_graph": MIN_NDVI}).json()["job_id"]
    service = first.http.post("/services", json={"job_id": job, "type": "xyz"}).json()
    tiles = tiles_over_the_data(zoom)
    urls = [f"{hosts[i % len(hosts)].url}/services/{service['service_id']}/xyz/"
            f"{t.z}/{t.x}/{t.y}.png" for i, t in enumerate(tiles)]

    def fetch(url: str) -> int:
        with httpx.Client(timeout=120) as http:
            response = http.get(url)
        assert response.status_code == 200, response.text
        return len(response.content)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(fetch, urls))
    return len(urls) / (time.perf_counter() - start), len(urls)


def batch_seconds(host: Host, size: int) -> float:
    """Wall time of one batch job from queueing to finished."""
    body = {"process_graph": MIN_NDVI, "output": {"format": "GTiff", "width": size,
                                                  "height": size * 3 // 4}}
    job = host.http.post("/jobs", json=body).json()["job_id"]
    start = time.perf_counter()
    assert host.http.post(f"/jobs/{job}/batch").status_code == 204
    finished = wait_for(host.http.get, job, done, timeout=1800)
    assert finished["status"] == "finished", finished
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--zoom", type=int, default=17)
    parser.add_argument("--size", type=int, default=2000, help="batch output width")
    parser.add_argument("--chunk", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_postgres() as postgres:
        root = Path(tmp)
        catalog = make_series(root / "data")
        rates: dict[int, float] = {}
        with dask_cluster(workers=1) as scheduler:
            for servers in (1, 2):
                hosts, _ = deployment(root, postgres, scheduler, catalog, servers,
                                      f"tiles{servers}", args.chunk)
                try:
                    rates[servers], count = tile_rate(hosts, args.zoom, args.clients)
                finally:
                    for host in hosts:
                        host.stop()
                print(f"tiles, {servers} server(s): {rates[servers]:7.1f} tiles/s "
                      f"({count} distinct z{args.zoom} PNG tiles, {args.clients} clients)")
        print(f"tiles: 2 servers / 1 server = {rates[2] / rates[1]:.2f}x")
        times: dict[int, float] = {}
        for workers in (1, 2):
            with dask_cluster(workers=workers) as scheduler:
                hosts, _ = deployment(root, postgres, scheduler, catalog, 1,
                                      f"batch{workers}", args.chunk)
                try:
                    times[workers] = batch_seconds(hosts[0], args.size)
                finally:
                    for host in hosts:
                        host.stop()
            print(f"batch, {workers} Dask worker(s): {times[workers]:6.1f} s "
                  f"({args.size} x {args.size * 3 // 4} px, chunks of {args.chunk})")
        print(f"batch: 1 worker / 2 workers = {times[1] / times[2]:.2f}x speed-up")


if __name__ == "__main__":
    main()
