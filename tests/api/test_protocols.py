"""The protocol registry: every service route serves only its protocol's service types.

For every protocol and every one of its service routes, a service of every *other*
registered type is 404 (in the protocol's error dialect), exactly like an unknown
service, while a service of the protocol's own types is found. The registry's
declarations drive ``POST /services``, ``/capabilities/services`` and service links.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from starlette.testclient import TestClient

from services.ogcapi.common import not_found as ogcapi_not_found
from services.protocol import Access, Endpoint, Protocol, service_types
from services.registry import PROTOCOLS
from tests.support.seed import use_case_1_job

ALL_TYPES = tuple(service_types(PROTOCOLS))
SAMPLE = {
    "tms": "WebMercatorQuad",
    "z": "12",
    "x": "2176",
    "y": "1459",
    "fmt": "png",
    "date": "2017-01-20",
    "path": "{job}/default/WebMercatorQuad/12/1459/2176.png",
    "row": "1459",
    "col": "2176",
    "collection_id": "{service}",
}
"""Values for the path parameters of the service routes (a tile over the demo data)."""
QUERIES = {
    "/point": "?lon=11.118&lat=46.673",
    "/ogcapi/collections/{collection_id}/coverage": "?scale-size=E(64),N(64)",
    "/wcs": "?SERVICE=WCS&REQUEST=GetCapabilities",
    "/wmts": "?SERVICE=WMTS&REQUEST=GetCapabilities",
}


def _service_routes() -> list[tuple[Protocol, Endpoint]]:
    return [
        (p, e)
        for p in PROTOCOLS
        for e in p.endpoints
        if isinstance(e, Endpoint) and e.access is Access.SERVICE
    ]


CASES = [
    pytest.param(protocol, endpoint, kind, id=f"{kind}-on-{endpoint.path.split('}', 1)[1]}")
    for protocol, endpoint in _service_routes()
    for kind in ALL_TYPES
]


def url_of(endpoint: Endpoint, service: dict[str, Any]) -> str:
    """A request URL of ``endpoint`` for ``service`` (its layer is its job)."""
    service_id = service["service_id"]
    path = endpoint.path.replace("{service_id}", service_id)
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE[m.group(1)], path)
    path = path.replace("{job}", service["job_id"]).replace("{service}", service_id)
    suffix = endpoint.path.split("{service_id}", 1)[1]
    return path + QUERIES.get(suffix, "")


@pytest.fixture(scope="module")
def published(client: TestClient) -> dict[str, dict[str, Any]]:
    """One service of every registered type, all of the same running job."""
    job = client.post("/jobs/on_demand", json=use_case_1_job()).json()
    out = {}
    for kind in ALL_TYPES:
        response = client.post("/services", json={"job_id": job["job_id"], "type": kind})
        assert response.status_code == 200, response.text
        out[kind] = response.json()
    return out


def test_every_protocol_with_service_routes_has_service_types() -> None:
    """A service route of a protocol without types would answer nothing."""
    for protocol, _ in _service_routes():
        assert protocol.service_types, protocol.name
    assert set(ALL_TYPES) == {"wmts", "wcs", "xyz", "tms", "ogcapi"}
    assert len(ALL_TYPES) == len(set(ALL_TYPES)), "a service type is declared twice"


@pytest.mark.parametrize(("protocol", "endpoint", "kind"), CASES)
def test_service_routes_serve_only_their_types(
    client: TestClient,
    published: dict[str, dict[str, Any]],
    protocol: Protocol,
    endpoint: Endpoint,
    kind: str,
) -> None:
    """Another type's service is not found (in the protocol's dialect); its own types are served."""
    response = client.get(url_of(endpoint, published[kind]))
    if kind in protocol.type_names and endpoint.handler is ogcapi_not_found:
        assert response.status_code == 404, response.text  # found, and no such resource
        assert "is not a resource of this OGC API" in response.json()["detail"]
        return
    if kind in protocol.type_names:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 404, response.text
    assert f"is a {kind} service, not {protocol.name}" in response.text
    if protocol.errors is None:
        assert response.json()["code"] == 404
    elif response.headers["content-type"] == "application/problem+json":  # OGC API
        assert response.json()["status"] == 404
        assert response.json()["code"] == "ResourceNotFound"
    else:  # the protocol's OGC exception report
        root = ET.fromstring(response.content)
        assert root.tag.endswith("ExceptionReport")
        codes = {n.get("exceptionCode") or n.get("code") for n in root.iter()} - {None}
        assert codes == {"NoApplicableCode"}


def test_service_types_and_links_come_from_the_registry(
    client: TestClient, published: dict[str, dict[str, Any]]
) -> None:
    described = client.get("/capabilities/services").json()  # the draft's array of names
    assert described == list(ALL_TYPES)
    assert described == [kind.name for p in PROTOCOLS for kind in p.service_types]
    wmts, xyz, wcs = published["wmts"], published["xyz"], published["wcs"]
    assert client.get(wmts["capabilities_url"]).status_code == 200
    assert "capabilities_url" not in xyz and "capabilities_url" not in wcs
    tilejson = [link["href"] for link in xyz["links"] if link["rel"] == "tilejson"]
    assert client.get(tilejson[0]).json()["tilejson"] == "3.0.0"
    assert not any(link["rel"] == "tilejson" for link in wmts["links"] + wcs["links"])
    ogcapi = published["ogcapi"]
    landing = client.get(ogcapi["service_url"]).json()
    assert {"service-desc", "conformance", "data"} <= {link["rel"] for link in landing["links"]}
    desc = [link["href"] for link in ogcapi["links"] if link["rel"] == "service-desc"]
    assert client.get(desc[0]).json()["openapi"].startswith("3.0")


def test_unknown_service_type_names_the_registered_ones(client: TestClient) -> None:
    job = client.post("/jobs", json=use_case_1_job()).json()
    response = client.post("/services", json={"job_id": job["job_id"], "type": "wms"})
    assert response.status_code == 400
    assert response.json()["message"].endswith(", ".join(ALL_TYPES))
