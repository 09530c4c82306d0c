"""Published jobs for the OGC API tests: the use-case-1 min NDVI and its NDVI series."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from tests.support.seed import use_case_1_job

BBOX = {"left": 652000, "right": 672000, "bottom": 5161000, "top": 5181000}
"""The use-case-1 job's extent (EPSG:32632, 20 m pixels: 1000 x 1000)."""


def graphs() -> dict[str, Any]:
    """``min``: the min NDVI of January 2017; ``series``: the NDVI time series under it."""
    minimum = use_case_1_job()["process_graph"]
    return {"min": minimum, "series": copy.deepcopy(minimum["args"]["imagery"])}


def with_bbox(graph: Any, **bbox: float | str) -> Any:
    """A copy of a use-case-1 graph whose filter_bbox is ``bbox`` (left, right, bottom, top,
    and ``srs`` if not EPSG:32632)."""
    out = copy.deepcopy(graph)
    node = out
    while node.get("process_id") != "filter_bbox":
        node = node["args"]["imagery"]
    node["args"].update(bbox)
    return out


def with_dates(graph: Any, start: str, end: str) -> Any:
    """A copy of a use-case-1 graph whose filter_daterange is ``start``..``end``."""
    out = copy.deepcopy(graph)
    node = out
    while node.get("process_id") != "filter_daterange":
        node = node["args"]["imagery"]
    node["args"].update({"from": start, "to": end})
    return out


def read_tiff(content: bytes) -> tuple[np.ma.MaskedArray, Any, Any]:
    """Pixels (masked), transform and CRS of a GeoTIFF body."""
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True), dataset.transform, dataset.crs


def execute(client: TestClient, graph: Any) -> np.ma.MaskedArray:
    """``POST /jobs/execute`` of ``graph`` as GeoTIFF: its pixels."""
    response = client.post(
        "/jobs/execute", json={"process_graph": graph, "output": {"format": "GTiff"}}
    )
    assert response.status_code == 200, response.text
    return read_tiff(response.content)[0]


def publish(client: TestClient, job_id: str, kind: str = "ogcapi", **args: Any) -> str:
    """``POST /services`` of ``job_id`` as ``kind``: the service id."""
    service = client.post("/services", json={"job_id": job_id, "type": kind, "args": args})
    assert service.status_code == 200, service.text
    return str(service.json()["service_id"])


def collection_path(service_id: str) -> str:
    """The path of an ``ogcapi`` service's one collection."""
    return f"/services/{service_id}/ogcapi/collections/{service_id}"


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, str]:
    """``name -> job id`` of the two jobs, running on demand."""
    out: dict[str, str] = {}
    for name, graph in graphs().items():
        job = client.post("/jobs", json={"process_graph": graph, "title": f"NDVI {name}"})
        assert job.status_code == 200, job.text
        out[name] = job.json()["job_id"]
    return out


@pytest.fixture(scope="module")
def services(client: TestClient, jobs: dict[str, str]) -> dict[str, str]:
    """``name -> service id`` of the two jobs published as ``ogcapi``."""
    return {name: publish(client, job_id) for name, job_id in jobs.items()}


@pytest.fixture(scope="module")
def published(services: dict[str, str]) -> dict[str, str]:
    """``name -> path`` of each job's collection (``/services/{id}/ogcapi/collections/{id}``)."""
    return {name: collection_path(service_id) for name, service_id in services.items()}


@pytest.fixture(scope="module")
def xyz(client: TestClient, jobs: dict[str, str]) -> dict[str, str]:
    """``name -> service id`` of the same two jobs published as ``xyz`` (to compare tiles)."""
    return {name: publish(client, job_id, "xyz") for name, job_id in jobs.items()}
