"""Batch jobs across processes: kill -9 and restart, two servers, an external Dask cluster."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.support.batchdata import (
    MIN_NDVI,
    NDVI_SERIES,
    ROOT,
    Server,
    child_env,
    done,
    free_port,
    make_series,
    wait_for,
)

ENV = {"ONDEMAND_BATCH_WORKERS": "1", "ONDEMAND_BATCH_CHUNK_SIZE": "64"}
SLOW = {"format": "GTiff", "width": 2000, "height": 1500}
"""About 750 chunks: long enough to be interrupted mid-run."""


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_series(tmp_path_factory.mktemp("batch-data"))


def queue(http: Any, graph: dict[str, Any], output: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"process_graph": graph}
    if output:
        body["output"] = output
    job_id = str(http.post("/jobs", json=body).json()["job_id"])
    assert http.post(f"/jobs/{job_id}/batch").status_code == 204
    return job_id


def result_bytes(http: Any, job_id: str) -> bytes:
    links = http.get(f"/jobs/{job_id}/batch/download").json()
    return bytes(http.get(links[0]["href"]).content)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def assert_gone(processes: list[psutil.Process], timeout: float = 30) -> None:
    """The processes exit by themselves; any left over is killed and fails the test."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        process.kill()
    assert not alive, f"left over: {alive}"


def test_kill_9_and_restart(collection: Path, tmp_path: Path) -> None:
    server = Server(tmp_path, collection, **ENV)
    try:
        finished = queue(server.http, MIN_NDVI)
        assert wait_for(server.http.get, finished, done)["status"] == "finished"
        kept = result_bytes(server.http, finished)
        interrupted = queue(server.http, NDVI_SERIES, SLOW)
        wait_for(server.http.get, interrupted, lambda j: j["progress"] >= 5)
        children = descendants(server.process.pid)
        assert children, "the local cluster's worker processes"
    finally:
        server.stop(kill=True)
    assert_gone(children)
    partial = list((tmp_path / "staging" / interrupted).rglob(".partial*"))
    assert partial, "the run was writing (in its staging folder) when it was killed"
    assert not (tmp_path / "results" / interrupted).exists(), "nothing published half-done"

    server = Server(tmp_path, collection, **ENV)
    try:
        assert result_bytes(server.http, finished) == kept
        job = wait_for(server.http.get, interrupted, done, timeout=90)
        assert job["status"] == "finished"
        links = server.http.get(f"/jobs/{interrupted}/batch/download").json()
        assert [link["href"].rsplit("/", 1)[1] for link in links] == ["result.tif", "result.json"]
        with rasterio.open(io.BytesIO(result_bytes(server.http, interrupted))) as src:
            assert src.shape == (1500, 2000) and src.count == 2
        assert not list((tmp_path / "results").rglob(".partial*"))
        assert not list((tmp_path / "staging").rglob(".partial*"))
        runs = [p for p in (tmp_path / "results" / interrupted).iterdir()]
        assert len(runs) == 1  # the killed run's directory is gone
        children = descendants(server.process.pid)
    finally:
        server.stop()
    assert_gone(children)


def test_two_server_processes_share_one_queue(collection: Path, tmp_path: Path) -> None:
    first = Server(tmp_path, collection, **ENV)
    second = Server(tmp_path, collection, **ENV)
    try:
        ids = [queue(first.http, MIN_NDVI), queue(second.http, MIN_NDVI),
               queue(second.http, NDVI_SERIES, SLOW)]
        for job_id in ids[:2]:
            assert wait_for(second.http.get, job_id, done)["status"] == "finished"
            assert result_bytes(first.http, job_id) == result_bytes(second.http, job_id)
        wait_for(first.http.get, ids[2], lambda j: j["status"] == "running")
        assert first.http.delete(f"/jobs/{ids[2]}/batch").status_code == 204
        assert second.http.get(f"/jobs/{ids[2]}").json()["status"] == "canceled"
        leaders = [s for s in (first, second) if descendants(s.process.pid)]
        assert len(leaders) == 1  # one process runs the queue (and owns the cluster)
        children = descendants(leaders[0].process.pid)
    finally:
        first.stop()
        second.stop()
    assert_gone(children)
    for job_id in ids[:2]:  # each finished job has one run directory with both files
        (run,) = (tmp_path / "results" / job_id).iterdir()
        assert sorted(p.name for p in run.iterdir()) == ["result.json", "result.tif"]
    assert not (tmp_path / "results" / ids[2]).exists() or not any(
        (tmp_path / "results" / ids[2]).iterdir())


@pytest.fixture()
def external_cluster() -> Iterator[str]:
    """``dask scheduler`` and one ``dask worker`` on 127.0.0.1, shut down afterwards."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen(
        [*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=child_env(), cwd=ROOT, stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
        env=child_env(), cwd=ROOT, stderr=subprocess.DEVNULL,
    )
    processes = [psutil.Process(scheduler.pid), psutil.Process(worker.pid)]
    try:
        yield address
    finally:
        everything = processes + [c for p in processes for c in descendants(p.pid)]
        worker.terminate()
        scheduler.terminate()
        assert_gone(everything)
        worker.wait(10)
        scheduler.wait(10)


def test_external_dask_cluster(collection: Path, tmp_path: Path, external_cluster: str) -> None:
    settings = Settings(data_dir=tmp_path, catalogs=(collection,), dask_scheduler=external_cluster,
                        batch_chunk_size=64)
    with TestClient(create_app(settings)) as client:
        job_id = queue(client, MIN_NDVI)
        assert wait_for(client.get, job_id, done)["status"] == "finished"
        runner = client.app.state.ondemand.batch  # type: ignore[attr-defined]
        assert runner.cluster.local is None and runner.cluster.address == external_cluster
        workers = runner.cluster.client.scheduler_info()["workers"]
        assert len(workers) == 1
        tif = result_bytes(client, job_id)
        same = client.post("/jobs/execute", json={"process_graph": MIN_NDVI}).content
    with rasterio.open(io.BytesIO(tif)) as a, rasterio.open(io.BytesIO(same)) as b:
        np.testing.assert_array_equal(a.read(1, masked=True).filled(0),
                                      b.read(1, masked=True).filled(0))
        np.testing.assert_array_equal(a.read_masks(1), b.read_masks(1))
