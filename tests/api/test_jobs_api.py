"""The jobs and services API of the draft, end to end on the demo catalog."""

from __future__ import annotations

import copy
import io
from typing import Any

import numpy as np
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.errors import ResourceNotFound
from ondemand.jobs import JobStore
from tests.support.seed import first_execute_example, use_case_1_job


def _create(client: TestClient, body: dict[str, Any] | None = None) -> str:
    response = client.post("/jobs", json=body or use_case_1_job())
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "submitted" and job["mode"] == "none"
    assert len(job["job_id"]) == 24
    return str(job["job_id"])


def test_use_case_1_job_lifecycle(client: TestClient) -> None:
    job_id = _create(client)
    full = client.get(f"/jobs/{job_id}").json()
    assert full["process_graph"] == use_case_1_job()["process_graph"]
    assert full["user_id"] and full["submitted"] and full["updated"]
    assert job_id in {j["job_id"] for j in client.get("/jobs").json()}

    # step 4 of use case 1: publish as WCS right away (the job starts on demand)
    service = client.post(
        "/services", json={"job_id": job_id, "type": "wcs", "args": {"VERSION": "2.0.1"}}
    ).json()
    assert service["service_type"] == "wcs" and service["job_id"] == job_id
    assert service["service_args"] == {"VERSION": "2.0.1"}
    assert service["service_url"].endswith(f"/services/{service['service_id']}/wcs")
    assert len(service["service_id"]) == 32
    assert client.get(f"/jobs/{job_id}").json()["status"] == "running"

    # step 6: the draft's cancel
    assert client.patch(f"/jobs/{job_id}/cancel").status_code == 200
    assert client.get(f"/jobs/{job_id}").json()["mode"] == "none"

    assert client.delete(f"/jobs/{job_id}").status_code == 204
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/services/{service['service_id']}").status_code == 404


def test_on_demand_start_stop(client: TestClient) -> None:
    job_id = _create(client)
    assert client.post(f"/jobs/{job_id}/on_demand").status_code == 204
    job = client.get(f"/jobs/{job_id}").json()
    assert (job["mode"], job["status"]) == ("on_demand", "running")
    assert client.delete(f"/jobs/{job_id}/on_demand").status_code == 204
    job = client.get(f"/jobs/{job_id}").json()
    assert (job["mode"], job["status"]) == ("none", "submitted")


def test_create_and_start_in_one_call(client: TestClient) -> None:
    response = client.post("/jobs/on_demand", json=use_case_1_job())
    assert response.status_code == 200
    assert (response.json()["mode"], response.json()["status"]) == ("on_demand", "running")


def test_invalid_graph_is_refused_at_submission(client: TestClient) -> None:
    body = copy.deepcopy(use_case_1_job())
    body["process_graph"]["args"]["imagery"]["args"]["red"] = "B99"
    response = client.post("/jobs", json=body)
    assert response.status_code == 400
    assert "B99" in response.json()["message"]


def test_patch_revalidates_and_replaces_the_graph(client: TestClient) -> None:
    job_id = _create(client)
    bad = client.patch(
        f"/jobs/{job_id}", json={"process_graph": {"process_id": "nope", "args": {}}}
    )
    assert bad.status_code == 400
    new_graph = use_case_1_job()["process_graph"]["args"]["imagery"]
    assert (
        client.patch(
            f"/jobs/{job_id}", json={"process_graph": new_graph, "title": "NDVI"}
        ).status_code
        == 204
    )
    job = client.get(f"/jobs/{job_id}").json()
    assert job["process_graph"] == new_graph and job["title"] == "NDVI"


def test_download_links_return_the_default_view(client: TestClient) -> None:
    job_id = _create(client)
    links = client.get(f"/jobs/{job_id}/on_demand/download").json()
    tif = next(link for link in links if link["href"].endswith(".tif"))
    response = client.get(tif["href"])
    assert response.status_code == 200
    body = copy.deepcopy(first_execute_example())
    body["output"] = {"format": "GTiff"}
    executed = client.post("/jobs/execute", json=body)
    with (
        rasterio.open(io.BytesIO(response.content)) as a,
        rasterio.open(io.BytesIO(executed.content)) as b,
    ):
        assert a.transform == b.transform and a.crs == b.crs
        np.testing.assert_array_equal(a.read(1, masked=True), b.read(1, masked=True))


def test_services_crud(client: TestClient) -> None:
    job_id = _create(client)
    created = client.post("/services", json={"job_id": job_id, "service_type": "wmts"}).json()
    sid = created["service_id"]
    assert created["capabilities_url"].endswith("/wmts/1.0.0/WMTSCapabilities.xml")
    assert sid in {s["service_id"] for s in client.get("/services").json()}
    assert client.patch(f"/services/{sid}", json={"args": {"style": "viridis"}}).status_code == 204
    assert client.get(f"/services/{sid}").json()["service_args"] == {"style": "viridis"}
    assert client.delete(f"/services/{sid}").status_code == 204
    assert client.get(f"/services/{sid}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        pytest.param({"type": "wmts"}, 400, "job_id", id="no-job"),
        pytest.param({"job_id": "0" * 24, "type": "wmts"}, 404, "does not exist", id="unknown-job"),
        pytest.param({"job_id": "JOB", "type": "wms"}, 400, "not supported", id="unknown-type"),
        pytest.param({"job_id": "JOB"}, 400, "type", id="no-type"),
    ],
)
def test_bad_service_requests(
    client: TestClient, body: dict[str, Any], status: int, words: str
) -> None:
    if body.get("job_id") == "JOB":
        body = {**body, "job_id": _create(client)}
    response = client.post("/services", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


def test_service_types_are_listed(client: TestClient) -> None:
    assert {"wmts", "tms", "xyz", "wcs"} <= set(client.get("/capabilities/services").json())


def test_store_isolates_users(tmp_path: Any) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.create_job("alice", {"product_id": "x"})
    with pytest.raises(ResourceNotFound):
        store.get_job(job.job_id, "bob")
    with pytest.raises(ResourceNotFound):
        store.delete_job(job.job_id, "bob")
    assert store.get_job(job.job_id, "alice").process_graph == {"product_id": "x"}
    assert store.list_jobs("bob") == []


def test_modes_do_not_silently_switch(client: TestClient) -> None:
    job_id = _create(client)
    client.post("/services", json={"job_id": job_id, "type": "xyz"})
    refused = client.post(f"/jobs/{job_id}/batch")
    assert refused.status_code == 400 and refused.json()["code"] == 10005
    assert f"DELETE /jobs/{job_id}/on_demand" in refused.json()["message"]
    assert client.get(f"/jobs/{job_id}").json()["mode"] == "on_demand"
    assert client.delete(f"/jobs/{job_id}/on_demand").status_code == 204
    assert client.post(f"/jobs/{job_id}/batch").status_code == 204
    for path, body in (
        (f"/jobs/{job_id}/on_demand", None),
        ("/services", {"job_id": job_id, "type": "wmts"}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 400 and response.json()["code"] == 10005, path
    assert client.get(f"/jobs/{job_id}").json()["mode"] == "batch"
    client.delete(f"/jobs/{job_id}/batch")
