"""OWSLib's OGC API – Coverages client (an independent reader) against a live server: it
finds the landing page's links, the conformance classes and the coverages of both roots,
and the coverage it fetches with ``subset``, ``scale_size`` and ``properties`` equals
``POST /jobs/execute`` of the same window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from owslib.ogcapi.coverages import Coverages

from ondemand.catalog import Catalog
from tests.support.live import live_demo_server

from .conftest import graphs, read_tiff, with_bbox

BOX = {"left": 656000, "right": 660000, "bottom": 5170000, "top": 5175000}


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_demo_server(tmp_path_factory.mktemp("ogcapi-owslib"), demo_data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def service(http: httpx.Client) -> str:
    """The min-NDVI job published as ``ogcapi``: its service id (= its collection id)."""
    job = http.post("/jobs", json={"process_graph": graphs()["min"]}).json()["job_id"]
    return str(http.post("/services", json={"job_id": job, "type": "ogcapi"}).json()["service_id"])


def execute(http: httpx.Client, graph: object, **size: int) -> np.ma.MaskedArray:
    output = {"format": "GTiff", **size}
    response = http.post("/jobs/execute", json={"process_graph": graph, "output": output})
    assert response.status_code == 200, response.text
    return read_tiff(response.content)[0]


def test_service_root_lists_its_coverage(server: str, service: str) -> None:
    api = Coverages(f"{server}/services/{service}/ogcapi/")
    conforms = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/core" in conforms
    assert api.coverages() == [service]
    assert api.api()["servers"][0]["url"].endswith(f"/services/{service}/ogcapi")


def test_public_root_lists_the_catalog_and_own_services(
    server: str, service: str, demo_catalog: Catalog
) -> None:
    listed = Coverages(f"{server}/ogcapi/").coverages()
    assert service in listed
    assert {c.id for c in demo_catalog} <= set(listed)


def test_owslib_subset_equals_execute(server: str, http: httpx.Client, service: str) -> None:
    api = Coverages(f"{server}/services/{service}/ogcapi/")
    content = api.coverage(
        service, subset={"E": (BOX["left"], BOX["right"]), "N": (BOX["bottom"], BOX["top"])}
    ).read()
    data, transform, crs = read_tiff(content)
    assert crs.to_epsg() == 32632 and data.shape == (1, 250, 200)
    assert (transform.c, transform.f, transform.a) == (656000.0, 5175000.0, 20.0)
    expected = execute(http, with_bbox(graphs()["min"], **BOX))
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def test_owslib_scale_size_and_properties(server: str, http: httpx.Client, service: str) -> None:
    api = Coverages(f"{server}/services/{service}/ogcapi/")
    content = api.coverage(
        service,
        subset=[("E", BOX["left"], BOX["right"]), ("N", BOX["bottom"], BOX["top"])],
        scale_size={"E": 100, "N": 125},
        properties=["ndvi"],
    ).read()
    data, transform, _ = read_tiff(content)
    assert data.shape == (1, 125, 100) and (transform.a, -transform.e) == (40.0, 40.0)
    expected = execute(http, with_bbox(graphs()["min"], **BOX), width=100, height=125)
    assert data.count() > 0
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)
