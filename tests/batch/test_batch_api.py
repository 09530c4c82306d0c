"""Batch jobs end to end in one app on a local Dask cluster of two worker processes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.batch.worker import EngineSpec
from ondemand.settings import Settings
from services import create_app
from services.state import AppState
from tests.support.batchdata import (
    MIN_NDVI,
    NDVI_SERIES,
    done,
    download,
    expected_min_ndvi,
    make_series,
    result_links,
    wait_for,
)


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_series(tmp_path_factory.mktemp("batch-data"))


@pytest.fixture(scope="module")
def app_client(collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("batch-server"),
        catalogs=(collection,),
        batch_workers=2,
        batch_chunk_size=64,
        batch_jobs=2,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def state(client: TestClient) -> AppState:
    value = client.app.state.ondemand  # type: ignore[attr-defined]
    assert isinstance(value, AppState)
    return value


def create(client: TestClient, graph: dict[str, Any], output: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"process_graph": graph}
    if output is not None:
        body["output"] = output
    response = client.post("/jobs", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["job_id"])


def run(client: TestClient, graph: dict[str, Any], output: dict[str, Any] | None = None) -> str:
    job_id = create(client, graph, output)
    assert client.post(f"/jobs/{job_id}/batch").status_code == 204
    job = wait_for(client.get, job_id, done)
    assert job["status"] == "finished", job
    return job_id




CASES = {
    "min_ndvi": (MIN_NDVI, {"format": "GTiff"}),
    "ndvi_time_series": (NDVI_SERIES, {"format": "GTiff", "compress": "LZW"}),
    "options_and_grid": (
        MIN_NDVI,
        {"format": "GTiff", "compress": "ZSTD", "predictor": 3, "tiled": True,
         "blockxsize": 128, "blockysize": 128, "resolution": 20},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_result_equals_synchronous_execution(app_client: TestClient, case: str) -> None:
    graph, output = CASES[case]
    job_id = run(app_client, graph, output)
    files = result_links(app_client, job_id)
    assert [f["type"] for f in files] == [
        "image/tiff; application=geotiff; profile=cloud-optimized",
        "application/geo+json",
    ]
    cog = download(app_client, files[0]["href"]).content
    assert files[0]["file:size"] == len(cog)
    same = app_client.post("/jobs/execute", json={"process_graph": graph, "output": output})
    assert same.status_code == 200, same.text
    with rasterio.open(io.BytesIO(cog)) as got, rasterio.open(io.BytesIO(same.content)) as want:
        assert got.driver == "GTiff" and got.dtypes == want.dtypes
        assert (got.crs, got.transform, got.shape) == (want.crs, want.transform, want.shape)
        assert got.descriptions == want.descriptions
        assert [got.tags(i) for i in got.indexes] == [want.tags(i) for i in want.indexes]
        a, b = got.read(masked=True), want.read(masked=True)
        assert got.profile["blockxsize"] == output.get("blockxsize", 256)
        assert got.compression.name.upper() == output.get("compress", "DEFLATE")
        assert got.block_shapes[0][0] == got.profile["blockxsize"] and got.overviews(1)
    np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
    np.testing.assert_array_equal(a.filled(0), b.filled(0))
    assert np.ma.count(a) > 0.5 * a.size / a.shape[0]


def test_min_ndvi_equals_numpy(app_client: TestClient, collection: Path) -> None:
    job_id = run(app_client, MIN_NDVI)
    cog = download(app_client, result_links(app_client, job_id)[0]["href"]).content
    expected = expected_min_ndvi(collection)
    with rasterio.open(io.BytesIO(cog)) as src:
        assert src.dtypes == ("float32",) and np.isnan(src.nodata)
        got = src.read(1, masked=True)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    np.testing.assert_allclose(got.compressed(), expected.compressed(), atol=1e-6)


def test_time_series_masks_dates_missing_under_a_chunk(app_client: TestClient) -> None:
    job_id = run(app_client, NDVI_SERIES)
    files = result_links(app_client, job_id)
    with rasterio.open(io.BytesIO(download(app_client, files[0]["href"]).content)) as src:
        assert src.descriptions == ("2020-01-05T00:00:00+00:00", "2020-01-09T00:00:00+00:00")
        second = src.read(2, masked=True)
    assert np.ma.getmaskarray(second)[:, :200].all()  # item b covers only the east half
    assert np.ma.count(second[:, 200:]) > 0.9 * 300 * 200
    item = download(app_client, files[1]["href"]).json()
    assert item["id"] == job_id
    assert item["properties"]["start_datetime"] == "2020-01-05T00:00:00Z"
    assert item["properties"]["end_datetime"] == "2020-01-09T00:00:00Z"
    assert item["properties"]["proj:epsg"] == 32633
    assert item["properties"]["proj:shape"] == [300, 400]
    asset = item["assets"]["result"]
    assert asset["href"] == "./result.tif" and asset["file:size"] == files[0]["file:size"]
    assert [b["data_type"] for b in asset["raster:bands"]] == ["float32", "float32"]


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [("first_bytes", 0, 99), ("middle", 1000, 4095), ("last_byte", -1, None)],
)
def test_download_range_requests(app_client: TestClient, name: str, start: int,
                                 end: int | None) -> None:
    job_id = run(app_client, MIN_NDVI)
    href = result_links(app_client, job_id)[0]["href"]
    whole = download(app_client, href)
    assert int(whole.headers["content-length"]) == len(whole.content)
    if start < 0:
        spec, expected = f"bytes={start}", whole.content[start:]
    else:
        spec, expected = f"bytes={start}-{end}", whole.content[start:(end or 0) + 1]
    part = download(app_client, href, Range=spec)
    assert part.status_code == 206
    assert part.content == expected
    assert int(part.headers["content-length"]) == len(expected)


def test_queue_synonym_progress_and_timestamps(app_client: TestClient) -> None:
    job_id = create(app_client, MIN_NDVI)
    assert app_client.patch(f"/jobs/{job_id}/queue").status_code == 200
    job = wait_for(app_client.get, job_id, done)
    assert (job["mode"], job["status"], job["progress"]) == ("batch", "finished", 100)
    assert job["queued"] <= job["started"] <= job["finished"]
    assert len(result_links(app_client, job_id)) == 2
    assert app_client.get(f"/jobs/{job_id}/download").json() == result_links(app_client, job_id)


def slow_output() -> dict[str, Any]:
    """An output of 1600 x 1200 pixels: 475 chunks of 64 x 64, a few seconds of work."""
    return {"format": "GTiff", "width": 1600, "height": 1200}


def test_cancel_running_job_deletes_everything(app_client: TestClient) -> None:
    job_id = create(app_client, NDVI_SERIES, slow_output())
    assert app_client.post(f"/jobs/{job_id}/batch").status_code == 204
    wait_for(app_client.get, job_id, lambda j: j["status"] == "running" and j["progress"] > 0)
    assert app_client.delete(f"/jobs/{job_id}/batch").status_code == 204
    job = app_client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "canceled"
    response = app_client.get(f"/jobs/{job_id}/batch/download")
    assert response.status_code == 400 and response.json()["code"] == 428
    assert "canceled" in response.json()["message"]
    assert f"POST /jobs/{job_id}/batch" in response.json()["message"]
    results = state(app_client).settings.data_dir / "results" / job_id
    deadline = time.monotonic() + 20
    while results.exists() and any(results.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not results.exists() or not any(results.iterdir())
    time.sleep(1.5)  # the canceled run has stopped: nothing changes any more
    assert app_client.get(f"/jobs/{job_id}").json()["status"] == "canceled"


def test_delete_finished_results_and_requeue(app_client: TestClient) -> None:
    job_id = run(app_client, MIN_NDVI)
    first = download(app_client, result_links(app_client, job_id)[0]["href"]).content
    href = result_links(app_client, job_id)[0]["href"]
    assert app_client.delete(f"/jobs/{job_id}/batch").status_code == 204
    assert download(app_client, href).status_code == 400
    assert not (state(app_client).settings.data_dir / "results" / job_id).exists() or not any(
        (state(app_client).settings.data_dir / "results" / job_id).iterdir()
    )
    assert app_client.post(f"/jobs/{job_id}/batch").status_code == 204
    assert wait_for(app_client.get, job_id, done)["status"] == "finished"
    with rasterio.open(io.BytesIO(first)) as a, rasterio.open(
        io.BytesIO(download(app_client, result_links(app_client, job_id)[0]["href"]).content)
    ) as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))


def test_concurrent_jobs_respect_the_limit(app_client: TestClient) -> None:
    ids = [create(app_client, MIN_NDVI, {"format": "GTiff", "width": 800, "height": 600})
           for _ in range(3)]
    for job_id in ids:
        assert app_client.post(f"/jobs/{job_id}/batch").status_code == 204
    most = 0
    while True:
        # one query, one consistent snapshot (per-job GETs could straddle a hand-over)
        listed = {j["job_id"]: j["status"] for j in app_client.get("/jobs").json()}
        statuses = [listed[j] for j in ids]
        most = max(most, statuses.count("running"))
        if all(s not in ("queued", "running") for s in statuses):
            break
        time.sleep(0.05)
    assert statuses == ["finished"] * 3
    assert most == 2  # batch_jobs=2: two at once, never more
    tifs = [download(app_client, result_links(app_client, j)[0]["href"]).content for j in ids]
    with rasterio.open(io.BytesIO(tifs[0])) as src:
        assert src.shape == (600, 800)
        reference = src.read(1)
    for tif in tifs[1:]:
        with rasterio.open(io.BytesIO(tif)) as src:
            np.testing.assert_array_equal(src.read(1), reference)


def test_chunk_failure_fails_the_job_with_its_error(
    app_client: TestClient, tmp_path: Path, collection: Path
) -> None:
    broken = tmp_path / "T"
    shutil.copytree(collection.parent, broken)
    (broken / "b" / "B08.tif").write_bytes(b"not a tiff")
    settings = state(app_client).settings
    graph = json.loads(json.dumps(NDVI_SERIES))
    runner = state(app_client).batch
    assert runner is not None
    saved = runner.engine_spec
    runner.engine_spec = EngineSpec((str(broken / "collection.json"),), settings)
    try:
        job_id = create(app_client, graph)
        app_client.post(f"/jobs/{job_id}/batch")
        job = wait_for(app_client.get, job_id, done)
    finally:
        runner.engine_spec = saved
    assert job["status"] == "error"
    message = job["error"]["message"]
    assert message.startswith("Chunk ") and " failed: " in message
    # the failing chunk is one of item b's (the east half, from column 192 on); which one
    # finishes first depends on the workers
    first_column = int(re.search(r"columns (\d+)-\d+", message).group(1))  # type: ignore[union-attr]
    assert first_column >= 192
    assert "B08.tif" in message


def test_worker_killed_mid_job_is_retried(app_client: TestClient) -> None:
    job_id = create(app_client, MIN_NDVI, slow_output())
    app_client.post(f"/jobs/{job_id}/batch")
    wait_for(app_client.get, job_id, lambda j: j["status"] == "running" and j["progress"] > 2)
    runner = state(app_client).batch
    assert runner is not None and runner.cluster is not None
    pids = runner.cluster.client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    job = wait_for(app_client.get, job_id, done, timeout=60)
    assert job["status"] == "finished", job
    reference = app_client.post(
        "/jobs/execute", json={"process_graph": MIN_NDVI, "output": slow_output()}
    )
    got = download(app_client, result_links(app_client, job_id)[0]["href"]).content
    with rasterio.open(io.BytesIO(got)) as a, rasterio.open(io.BytesIO(reference.content)) as b:
        np.testing.assert_array_equal(np.isnan(a.read(1)), np.isnan(b.read(1)))
        np.testing.assert_array_equal(a.read(1, masked=True).filled(0),
                                      b.read(1, masked=True).filled(0))


@pytest.mark.parametrize(
    ("name", "body", "code", "words"),
    [
        ("png_output", {"output": {"format": "PNG"}}, 3003, "Cloud Optimized GeoTIFF"),
        ("photometric", {"output": {"format": "GTiff", "photometric": "RGB"}}, 3003,
         "photometric"),
        ("unknown_field", {"priority": 1}, 2103, "Unknown batch fields"),
    ],
)
def test_queue_refuses_what_cannot_run(
    app_client: TestClient, name: str, body: dict[str, Any], code: int, words: str
) -> None:
    job_id = create(app_client, MIN_NDVI)
    response = app_client.post(f"/jobs/{job_id}/batch", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code and words in response.json()["message"]
    assert app_client.get(f"/jobs/{job_id}").json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "batch"), ("DELETE", "batch"), ("GET", "batch/download"), ("PATCH", "queue"),
     ("GET", "results/result.tif")],
)
def test_unknown_job_is_404(app_client: TestClient, method: str, path: str) -> None:
    response = app_client.request(method, f"/jobs/{'0' * 24}/{path}")
    assert response.status_code == 404 and response.json()["code"] == 404
