"""The published OpenAPI description: valid, true to the routes, and true to the server.

``GET /openapi.json`` is checked against the application's routes in both
directions, then schemathesis sends bounded, derandomized generated requests
to a live server and checks every answer against the description (no 5xx,
documented statuses, content types and response schemas).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from services import create_app
from services.api import openapi
from services.registry import PROTOCOLS
from tests.support.live import live_server

METHODS = {"get", "put", "post", "delete", "patch"}
USER = ("alice", "correct horse")
BASIC = "Basic " + base64.b64encode(":".join(USER).encode()).decode()


def _route_operations() -> tuple[set[tuple[str, str]], set[str]]:
    """(path, method) of every JSON API route, and the excluded route paths."""
    app = create_app(Settings())
    operations: set[tuple[str, str]] = set()
    excluded: set[str] = set()
    for route in app.routes:
        assert isinstance(route, Route | Mount | WebSocketRoute), route
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if any(path.startswith(prefix) for prefix in openapi.excluded(PROTOCOLS)):
            excluded.add(path)
            continue
        assert isinstance(route, Route), f"{path} is not an HTTP route: describe or exclude it"
        for method in (route.methods or set()) - {"HEAD"}:
            operations.add((path, method.lower()))
    return operations, excluded


def test_document_is_valid_openapi_3() -> None:
    validate(openapi.document(PROTOCOLS))


def test_every_route_is_described_and_every_description_is_routed() -> None:
    routed, excluded = _route_operations()
    described = {
        (path, method)
        for path, item in openapi.document(PROTOCOLS)["paths"].items()
        for method in item
        if method in METHODS
    }
    assert routed - described == set(), "routes missing from the OpenAPI description"
    assert described - routed == set(), "described operations the app does not route"
    assert excluded, "OGC and tile paths are excluded, each with a reason"
    assert all(reason.strip() for reason in openapi.excluded(PROTOCOLS).values())


def test_every_exclusion_matches_a_route() -> None:
    """No stale exclusion hides a path that no longer exists."""
    _, excluded = _route_operations()
    for prefix in openapi.excluded(PROTOCOLS):
        assert any(path.startswith(prefix) for path in excluded), prefix


def test_served_document_is_the_description(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi.document(PROTOCOLS)
    assert "/openapi.json" in {e["path"] for e in client.get("/").json()["endpoints"]}


def test_every_operation_documents_its_errors_as_json() -> None:
    for path, item in openapi.document(PROTOCOLS)["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith("4") or status.startswith("5"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)


# --------------------------------------------------------------------------- schemathesis




@pytest.fixture(scope="module")
def server_url(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on 127.0.0.1 with its own data dir (fuzzed writes stay there)."""
    catalogs = tuple(ensure_demo_catalog(demo_data_dir))
    data_dir = tmp_path_factory.mktemp("openapi")
    AccountFile(data_dir / "users.json").add(*USER)
    settings_ = Settings(data_dir=data_dir, catalogs=catalogs, users_file=data_dir / "users.json",
                         max_file_bytes=64 * 1024, user_quota_bytes=256 * 1024,
                         login_max_failures=1_000_000)  # fuzzing sends many wrong passwords;
    # the login throttle (429) has its own tests in test_auth.py
    with live_server(settings_) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(server_url: str) -> Any:
    """The description as served, bound to the live server."""
    schema = schemathesis.openapi.from_url(f"{server_url}/openapi.json")
    schema.config.update(base_url=server_url)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_server_conforms_to_its_description(case: Any, server_url: str) -> None:
    """No 5xx; statuses, content types and bodies as described; bad auth is 401/403.

    Schema-valid is not valid: a graph must also name real collections and processes,
    an id must exist. So generated requests may be refused with a documented 4xx
    (positive_data_acceptance is left out); everything else is checked.
    """
    case.call_and_validate(base_url=server_url, headers={"Authorization": BASIC},
                           excluded_checks=[positive_data_acceptance])
