"""schemathesis against the OGC API's own OpenAPI descriptions (a service's root and the
catalog root): generated requests on a real published job and on a catalog collection
get no 5xx, and every answer has a described status, content type and (for errors) a
problem-details body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.live import live_demo_server

from .conftest import graphs


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_demo_server(tmp_path_factory.mktemp("ogcapi-fuzz"), demo_data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def collection(server: str) -> str:
    """A min-NDVI job published as ``ogcapi``: its service id is its collection's id."""
    with httpx.Client(base_url=server, timeout=60) as http:
        job = http.post("/jobs", json={"process_graph": graphs()["min"]}).json()["job_id"]
        body = {"job_id": job, "type": "ogcapi"}
        return str(http.post("/services", json=body).json()["service_id"])


def _root(server: str, collection: str) -> str:
    return f"{server}/services/{collection}/ogcapi"


@pytest.fixture(scope="module")
def ogcapi_schema(server: str, collection: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{_root(server, collection)}/api")
    schema.config.update(base_url=_root(server, collection))
    return schema


schema = schemathesis.pytest.from_fixture("ogcapi_schema")


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_ogcapi_conforms_to_its_description(case: Any, server: str, collection: str) -> None:
    """Generated parameters on a real collection: refused with a documented 4xx or served."""
    if case.path_parameters and "collectionId" in case.path_parameters:
        case.path_parameters["collectionId"] = collection
    case.call_and_validate(
        base_url=_root(server, collection), excluded_checks=[positive_data_acceptance]
    )


PREVIEW = "S2_L2A_T32TPS_20M"
"""A catalog collection (ten bands, a time series) under the ``/ogcapi`` root."""


@pytest.fixture(scope="module")
def catalog_schema(server: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{server}/ogcapi/api")
    schema.config.update(base_url=f"{server}/ogcapi")
    return schema


catalog = schemathesis.pytest.from_fixture("catalog_schema")


@catalog.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_catalog_previews_conform_to_their_description(case: Any, server: str) -> None:
    """The same on the public root's preview of a catalog collection."""
    if case.path_parameters and "collectionId" in case.path_parameters:
        case.path_parameters["collectionId"] = PREVIEW
    case.call_and_validate(
        base_url=f"{server}/ogcapi", excluded_checks=[positive_data_acceptance]
    )
