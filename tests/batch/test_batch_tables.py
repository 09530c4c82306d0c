"""Zonal statistics through batch jobs: the draft's use case 3, queued and downloaded."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyogrio.raw
from starlette.testclient import TestClient

from tests.support.batchdata import done, wait_for
from tests.support.gdal import ogrinfo_strict
from tests.support.polygons import NAME
from tests.support.seed import zonal_draft_request as draft_request


def _rows(path: Path) -> list[dict[str, Any]]:
    meta, _, _, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    return [dict(zip(names, values, strict=True)) for values in zip(*fields, strict=True)]


def _queued(
    client: TestClient, body: dict[str, Any], output: dict[str, Any] | None = None
) -> dict[str, Any]:
    job_id = client.post("/jobs", json=body).json()["job_id"]
    if output is None:
        assert client.patch(f"/jobs/{job_id}/queue").status_code == 200  # the draft's verb
    else:
        assert client.post(f"/jobs/{job_id}/batch", json={"output": output}).status_code == 204
    job = wait_for(client.get, job_id, done, timeout=120)
    assert job["status"] == "finished", job
    return job


def test_use_case_3_batch_geopackage_equals_synchronous(
    client: TestClient, uploaded: None, tmp_path: Path
) -> None:
    job = _queued(client, draft_request())
    links = client.get(f"/jobs/{job['job_id']}/download").json()
    gpkg = next(link for link in links if link["href"].endswith(".gpkg"))
    batch_path, sync_path = tmp_path / "batch.gpkg", tmp_path / "sync.gpkg"
    batch_path.write_bytes(client.get(gpkg["href"]).content)
    sync_path.write_bytes(client.post("/jobs/execute", json=draft_request()).content)
    for path in (batch_path, sync_path):
        ogrinfo_strict(path)  # GDAL opens both without a warning
    batch_rows, sync_rows = _rows(batch_path), _rows(sync_path)
    assert len(batch_rows) == len(sync_rows) >= 3
    assert batch_rows == sync_rows
    assert {r["source"] for r in batch_rows} >= {NAME}


def test_batch_table_in_another_format(client: TestClient, uploaded: None) -> None:
    job = _queued(client, draft_request(), {"format": "CSV"})
    links = client.get(f"/jobs/{job['job_id']}/batch/download").json()
    href = next(link["href"] for link in links if link["href"].endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(client.get(href).text)))
    assert {r["source"] for r in rows} >= {NAME}
    assert all(r["date"].startswith("2017-01") for r in rows)


def test_raster_format_for_a_table_is_refused(client: TestClient, uploaded: None) -> None:
    job_id = client.post("/jobs", json=draft_request()).json()["job_id"]
    response = client.post(f"/jobs/{job_id}/batch", json={"output": {"format": "GTiff"}})
    assert response.status_code == 400
    assert "table" in response.json()["message"] and "GPKG" in response.json()["message"]
