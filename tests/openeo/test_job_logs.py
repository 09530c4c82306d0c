"""``GET /jobs/{id}/logs`` of real batch runs: queued, started, one entry per chunk with
monotonic progress, finished or the error's message; ``offset``/``limit`` paging with a
``next`` link, and ``level`` filtering (every answer validated against openapi.yaml)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import rasterio

from ondemand.batch.run import ASSEMBLY_PERCENT
from tests.openeo.conftest import COLLECTIONS

openeo = pytest.importorskip("openeo")

EXTENT = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}
CHUNK = 64
"""The live server's batch chunk size (tests/openeo/conftest.py)."""


def _logs(con: Any, job_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = con.get(f"/jobs/{job_id}/logs", params=params,
                                   expected_status=200).json()
    return body


@pytest.fixture(scope="module")
def finished(alice: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A batch run of several chunks (500 m pixels), finished, with its GeoTIFF."""
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=EXTENT,
                                 temporal_extent=["2018-01-01", "2018-04-25"],
                                 bands=["B4", "B5"]).ndvi().max_time()
    job = cube.save_result(format="GTiff", options={"resolution": 500}).create_job(
        title="chunked")
    job.start_and_wait(max_poll_interval=1)
    (tif,) = [f for f in job.get_results().download_files(
        tmp_path_factory.mktemp("logs")) if f.suffix == ".tif"]
    return job, tif


def test_a_finished_run_logs_each_chunk_in_order(finished: tuple[Any, Path]) -> None:
    job, tif = finished
    with rasterio.open(tif) as ds:
        chunks = math.ceil(ds.width / CHUNK) * math.ceil(ds.height / CHUNK)
    assert chunks > 4
    entries = [dict(e) for e in job.logs()]
    messages = [e["message"] for e in entries]
    assert messages[:3] == ["Job created", "Batch run queued", "Batch run started"]
    assert messages[-1] == "Batch run finished: 2 result files"
    per_chunk = entries[3:-1]
    assert len(per_chunk) == chunks
    assert sorted(e["data"]["chunk"] for e in per_chunk) == list(range(chunks))
    assert [e["data"]["done"] for e in per_chunk] == list(range(1, chunks + 1))
    progress = [e["data"]["progress"] for e in per_chunk]
    assert progress == sorted(progress) and progress[-1] == ASSEMBLY_PERCENT
    assert all(f"of {chunks}" in e["message"] for e in per_chunk)
    assert [int(e["id"]) for e in entries] == sorted(int(e["id"]) for e in entries)
    assert all(e["level"] == "info" and e["time"].endswith("Z") for e in entries)


def test_offset_and_limit_page_through_the_entries(alice: Any,
                                                   finished: tuple[Any, Path]) -> None:
    job, _ = finished
    everything = _logs(alice, job.job_id)["logs"]
    page = _logs(alice, job.job_id, offset=everything[1]["id"], limit=3)
    assert page["logs"] == everything[2:5]
    (following,) = [link for link in page["links"] if link["rel"] == "next"]
    assert f"offset={everything[4]['id']}" in following["href"]
    rest = alice.get(following["href"], expected_status=200).json()
    assert rest["logs"] == everything[5:8]
    last = _logs(alice, job.job_id, offset=everything[-2]["id"], limit=3)
    assert last["logs"] == everything[-1:] and last["links"] == []
    assert _logs(alice, job.job_id, offset=everything[-1]["id"])["logs"] == []
    assert _logs(alice, job.job_id, level="warning")["logs"] == []


def test_bad_paging_is_a_400(alice: Any, finished: tuple[Any, Path]) -> None:
    job, _ = finished
    for params in ({"limit": 0}, {"offset": "x"}, {"level": "loud"}):
        with pytest.raises(openeo.rest.OpenEoApiError) as raised:
            _logs(alice, job.job_id, **params)
        assert raised.value.http_status_code == 400


def test_a_failed_run_logs_its_error(alice: Any) -> None:
    cube = alice.load_collection(COLLECTIONS[0], spatial_extent=EXTENT,
                                 temporal_extent=["2019-06-01", "2019-07-01"],
                                 bands=["B4", "B5"]).ndvi().max_time()
    job = cube.create_job(out_format="GTiff", title="no data")
    job.start_job()
    for _ in range(120):
        if job.status() in ("error", "finished"):
            break
        time.sleep(0.5)
    assert job.status() == "error"
    errors = _logs(alice, job.job_id, level="error")
    assert errors["level"] == "error"
    (entry,) = errors["logs"]
    assert entry["code"] == "BatchRunFailed"
    assert "no data" in entry["message"].lower()
    assert entry["message"].startswith("Batch run failed: ")
    messages = [e["message"] for e in _logs(alice, job.job_id)["logs"]]
    assert messages[:3] == ["Job created", "Batch run queued", "Batch run started"]
    assert messages[-1] == entry["message"]
