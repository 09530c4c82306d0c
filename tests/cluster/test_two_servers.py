"""Two servers as two hosts over one PostgreSQL store, one results folder, one users'
files folder and one Dask cluster with two workers.

The hosts are network namespaces joined by a bridge when the tests run as root (CI),
else two loopback addresses (127.0.0.2, 127.0.0.3). The deployment is module-scoped, as a
deployment is: the last test kills one of its servers.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import rasterio

from tests.support.batchdata import MIN_NDVI, NDVI_SERIES, done, make_series, wait_for
from tests.support.cluster import Host, Shared, dask_cluster, tiles_over_the_data
from tests.support.netns import Network, hosts
from tests.support.polygons import NAME, POLYGON
from tests.support.postgres import Postgres, running_postgres, why_no_postgres

ENV = {
    "ONDEMAND_BATCH_CHUNK_SIZE": "64",
    "ONDEMAND_BATCH_LEASE_SECONDS": "3",
    "ONDEMAND_STORE_WAIT_SECONDS": "1",
    "ONDEMAND_STORE_POOL_SIZE": "12",
}
SLOW = {"format": "GTiff", "width": 2000, "height": 1500}
"""About 750 chunks: long enough to be killed mid-run."""


@dataclass(frozen=True)
class Deployment:
    a: Host
    b: Host
    shared: Shared
    postgres: Postgres
    network: Network


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    reason = why_no_postgres()
    if reason is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("cluster")
    with hosts(2) as network, running_postgres(network.bridge) as postgres, \
            dask_cluster(workers=2, host=network.services) as scheduler:
        store = postgres.create_database("cluster").replace("127.0.0.1", network.services)
        shared = Shared(store, root / "shared-results", root / "shared-files", scheduler,
                        make_series(root / "data"))
        started: list[Host] = []
        try:
            for address, prefix, name in zip(network.hosts, network.prefixes, "ab", strict=True):
                started.append(Host(address, root / name, shared, prefix, **ENV))
            yield Deployment(started[0], started[1], shared, postgres, network)
        finally:
            for host in started:
                host.stop()


def test_each_server_answers_only_at_its_own_host_address(deployment: Deployment) -> None:
    for host in (deployment.a, deployment.b):
        assert host.http.get("/").status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{host.port}/", timeout=5)
    if deployment.network.kind == "namespaces":  # separate network stacks, like machines
        assert deployment.shared.store.split("@")[1].startswith(deployment.network.services)


def test_a_service_created_on_a_serves_identical_tiles_from_b(
    deployment: Deployment,
) -> None:
    a, b = deployment.a, deployment.b
    job = a.http.post("/jobs", json={"process_graph": MIN_NDVI}).json()["job_id"]
    service = a.http.post("/services", json={"job_id": job, "type": "xyz"})
    assert service.status_code in (200, 201), service.text
    service_id = service.json()["service_id"]
    assert b.http.get(f"/jobs/{job}").json()["mode"] == "on_demand"
    tiles = tiles_over_the_data(14)
    assert tiles
    valid = 0
    for tile in tiles:
        for ext in ("tif", "png"):
            path = f"/services/{service_id}/xyz/{tile.z}/{tile.x}/{tile.y}.{ext}"
            from_a, from_b = a.http.get(path), b.http.get(path)
            assert from_a.status_code == from_b.status_code == 200, (from_a.text, from_b.text)
            assert from_a.content == from_b.content
            if ext == "tif":
                with rasterio.open(io.BytesIO(from_b.content)) as src:
                    valid += int(np.ma.count(src.read(1, masked=True)))
    assert valid > 0, "the tiles hold NDVI values, not only no-data"
    # each server computed its tiles itself: two caches, no sharing
    assert (a.data_dir / "cache").is_dir() and (b.data_dir / "cache").is_dir()


def test_files_uploaded_through_a_are_seen_by_b(deployment: Deployment) -> None:
    a, b, shared = deployment.a, deployment.b, deployment.shared
    put = a.http.put(f"/users/me/files/{NAME}", content=json.dumps(POLYGON).encode())
    assert put.status_code == 204, put.text
    listed = {f["name"] for f in b.http.get("/files/me").json()}
    assert NAME in listed
    assert b.http.get(f"/users/me/files/{NAME}").content == json.dumps(POLYGON).encode()
    assert (shared.files / "local" / NAME).is_file() or any(shared.files.rglob(NAME))


FIELD = {
    "type": "Feature",
    "properties": {"name": "field B"},
    "geometry": {"type": "Polygon", "coordinates": [
        [[15.01, 36.125], [15.03, 36.125], [15.03, 36.135], [15.01, 36.135], [15.01, 36.125]]
    ]},
}


def test_a_zonal_job_created_on_a_and_queued_on_b_finds_its_regions(
    deployment: Deployment,
) -> None:
    a, b = deployment.a, deployment.b
    put = a.http.put("/users/me/files/fields/b.json", content=json.dumps(FIELD).encode())
    assert put.status_code == 204, put.text
    body = {"process_graph": {"process_id": "zonal_statistics", "args": {
        "imagery": NDVI_SERIES, "regions": "/users/me/files/fields/b.json", "func": "avg"}},
        "output": {"format": "CSV"}}
    job_id = a.http.post("/jobs", json=body).json()["job_id"]
    assert b.http.post(f"/jobs/{job_id}/batch").status_code == 204
    finished = wait_for(b.http.get, job_id, done, timeout=120)
    assert finished["status"] == "finished", finished
    links = a.http.get(f"/jobs/{job_id}/batch/download").json()
    table = a.http.get(links[0]["href"]).text
    sync = b.http.post("/jobs/execute", json=body)
    assert sync.status_code == 200, sync.text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows == list(csv.DictReader(io.StringIO(sync.text)))
    stat = next(c for c in rows[0] if c.endswith("_mean"))
    assert len(rows) == 2 and all(-1 <= float(r[stat]) <= 1 for r in rows)  # two dates
    assert {r["source"] for r in rows} == {"fields/b.json"}
    for data_dir in (a.data_dir, b.data_dir):  # only on the shared folder
        assert not list(data_dir.rglob("b.json"))


def test_200_jobs_created_concurrently_through_both_are_listed_once_on_both(
    deployment: Deployment,
) -> None:
    a, b = deployment.a, deployment.b
    before = {j["job_id"] for j in a.http.get("/jobs").json()}

    def create(n: int) -> str:
        host = (a, b)[n % 2]
        with httpx.Client(base_url=host.url, timeout=60) as http:
            response = http.post("/jobs", json={"process_graph": MIN_NDVI, "title": f"job {n}"})
        assert response.status_code in (200, 201), response.text
        return str(response.json()["job_id"])

    with ThreadPoolExecutor(16) as pool:
        created = list(pool.map(create, range(200)))
    assert len(set(created)) == 200
    for host in (a, b):
        listed = [j["job_id"] for j in host.http.get("/jobs").json() if j["job_id"] not in before]
        assert Counter(listed) == Counter(created)
    titles = {j["title"] for j in b.http.get("/jobs").json() if j["job_id"] in set(created)}
    assert titles == {f"job {n}" for n in range(200)}


def test_postgres_restart_mid_load_answers_503_then_recovers(
    deployment: Deployment,
) -> None:
    a, b, postgres = deployment.a, deployment.b, deployment.postgres
    job = a.http.post("/jobs", json={"process_graph": MIN_NDVI}).json()["job_id"]
    service = a.http.post("/services", json={"job_id": job, "type": "xyz"}).json()
    tile = tiles_over_the_data(15)[0]
    tile_path = f"/services/{service['service_id']}/xyz/{tile.z}/{tile.x}/{tile.y}.png"
    statuses: Counter[int] = Counter()
    missing_retry_after: list[str] = []
    stop = threading.Event()

    def load(host: Host) -> None:
        with httpx.Client(base_url=host.url, timeout=60) as http:
            while not stop.is_set():
                for response in (http.get("/jobs"),
                                 http.post("/jobs", json={"process_graph": MIN_NDVI}),
                                 http.get(tile_path),
                                 http.get(f"/jobs/{job}")):
                    statuses[response.status_code] += 1
                    if response.status_code == 503 and "retry-after" not in response.headers:
                        missing_retry_after.append(response.text)
                    if response.status_code == 503:
                        assert response.json()["code"] == 503
                time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(h,)) for h in (a, b, a, b)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        postgres.stop()
        time.sleep(3)
        postgres.start()
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert statuses[503] > 0, statuses
    assert set(statuses) <= {200, 201, 503}, statuses
    assert not missing_retry_after
    for host in (a, b):  # recovered without a restart: every request answered again
        for _ in range(5):
            assert host.http.get("/jobs").status_code == 200
            assert host.http.get(tile_path).status_code == 200
            assert host.http.post("/jobs", json={"process_graph": MIN_NDVI}).status_code in (
                200, 201)


def lease_of(store: str, job_id: str) -> dict[str, Any]:
    with psycopg.connect(store) as conn:
        row = conn.execute(
            "SELECT lease_owner, attempts, run_id, status FROM jobs WHERE job_id = %s", (job_id,)
        ).fetchone()
        runs = conn.execute(
            "SELECT DISTINCT run_id FROM results WHERE job_id = %s", (job_id,)
        ).fetchall()
    assert row is not None
    return {"owner": row[0], "attempts": row[1], "run_id": row[2], "status": row[3],
            "result_runs": [r[0] for r in runs]}


def test_a_killed_server_s_batch_job_is_resumed_by_the_other_once(
    deployment: Deployment,
) -> None:
    a, b, shared = deployment.a, deployment.b, deployment.shared
    body = {"process_graph": MIN_NDVI, "output": SLOW}
    job_id = a.http.post("/jobs", json=body).json()["job_id"]
    assert a.http.post(f"/jobs/{job_id}/batch").status_code == 204
    running = wait_for(a.http.get, job_id, lambda j: j["status"] == "running"
                       and j["progress"] >= 5, timeout=120)
    assert running["status"] == "running"
    lease = lease_of(shared.store, job_id)
    runner, other = (a, b) if lease["owner"].startswith(a.node + "/") else (b, a)
    assert lease["owner"].startswith(runner.node + "/")
    runner.kill()
    finished = wait_for(other.http.get, job_id, done, timeout=180)
    assert finished["status"] == "finished", finished
    after = lease_of(shared.store, job_id)
    assert after["attempts"] == 2 and after["run_id"] != lease["run_id"]
    assert after["result_runs"] == [after["run_id"]]
    runs = [p.name for p in (shared.results / job_id).iterdir()]
    assert runs == [after["run_id"]]  # the killed run published nothing
    links = other.http.get(f"/jobs/{job_id}/batch/download").json()
    href = links[0]["href"]
    assert href.startswith(other.url)
    whole = other.http.get(href)
    assert whole.status_code == 200 and int(whole.headers["content-length"]) == len(whole.content)
    part = other.http.get(href, headers={"Range": "bytes=1000-5095"})
    assert part.status_code == 206 and part.content == whole.content[1000:5096]
    assert part.headers["content-range"] == f"bytes 1000-5095/{len(whole.content)}"
    sync = other.http.post("/jobs/execute", json=body)
    assert sync.status_code == 200, sync.text
    with rasterio.open(io.BytesIO(whole.content)) as batch, \
            rasterio.open(io.BytesIO(sync.content)) as direct:
        assert batch.shape == direct.shape == (1500, 2000)
        np.testing.assert_array_equal(batch.read_masks(1), direct.read_masks(1))
        np.testing.assert_array_equal(batch.read(1, masked=True).filled(0),
                                      direct.read(1, masked=True).filled(0))
