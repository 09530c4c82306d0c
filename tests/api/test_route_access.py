"""Access is declared per route: the public ones are listed here, and nothing else is public.

A new route that is public (or declares nothing) fails
:func:`test_public_routes_are_exactly_the_allowed_ones` until it is added to
:data:`PUBLIC` on purpose. The other tests check the declarations are enforced: on a
server with accounts, every USER route answers 401 without credentials and 403
with wrong ones, every SERVICE route 404 for a service that does not exist, and
the OpenAPI document marks exactly the public operations as needing no security.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from services import create_app
from services.access import route_access
from services.api.openapi import document
from services.ogcapi import DOCUMENTS as OGCAPI_DOCUMENTS
from services.ogcapi import OTHER as OGCAPI_OTHER
from services.protocol import Access
from services.registry import PROTOCOLS

OGCAPI_PUBLIC = {("GET", "/ogcapi" + p) for p in (*(p for p, _ in OGCAPI_DOCUMENTS), OGCAPI_OTHER)}
"""The OGC API root's documents (and its 404 for any other path): the catalog's
collections (public like ``/collections``) and, in its list, the caller's own ``ogcapi``
services (their routes are SERVICE routes); its tiles and coverages evaluate, so they are
USER routes, as ``/jobs/execute`` is."""

PUBLIC: set[tuple[str, str]] = {
    ("GET", "/"),
    ("GET", "/capabilities/output_formats"),
    ("GET", "/capabilities/services"),
    ("GET", "/data"),
    ("GET", "/data/{product_id:path}"),
    ("GET", "/collections"),
    ("GET", "/collections/{collection_id}"),
    ("GET", "/processes"),
    ("GET", "/processes/{process_id}"),
    ("GET", "/openapi.json"),
    *(SELF_AUTHENTICATING := {
        ("GET", "/auth/login"),  # checks the Basic credentials it exchanges for a token
        ("POST", "/auth/logout"),  # revokes the Bearer token it is sent
    }),
    ("POST", "/auth/register"),  # refused unless the operator allows registration
    ("GET", "/udf_runtimes"),
    ("GET", "/udf_runtimes/{lang}/{udf_type}"),
    ("GET", "/viewer/legend.json"),
    ("GET", "/.well-known/openeo"),
    *OGCAPI_PUBLIC,
    ("*", "/static/viewer"),
    ("*", "/static/leaflet"),
}
"""Every public route: (method, path). Add one here only when it must be public."""

OWN: set[tuple[str, str]] = {("*", "/openeo/1.2"), ("*", "/jobs/{job_id}/subscribe")}
"""Mounted APIs that authenticate in their own scheme inside their handlers (openEO's
``basic//`` Bearer tokens) and the job WebSocket (a header or ``?access_token=``); their
own tests check every refusal (tests/batch/test_subscribe.py for the WebSocket)."""

USER = ("alice", "correct horse")
UNKNOWN = "0" * 32


def _routes() -> list[tuple[str, str, Access | None]]:
    app = create_app(Settings())
    out = []
    for route in app.routes:
        methods = getattr(route, "methods", None) or {"*"}
        for method in sorted(set(methods) - {"HEAD"}):
            out.append((method, getattr(route, "path", ""), route_access(route)))
    return out


ROUTES = _routes()


def test_every_route_declares_its_access() -> None:
    undeclared = [(m, p) for m, p, access in ROUTES if access is None]
    assert undeclared == []


def test_self_authenticating_mounts_are_exactly_the_listed_ones() -> None:
    assert {(m, p) for m, p, access in ROUTES if access is Access.OWN} == OWN


def test_public_routes_are_exactly_the_allowed_ones() -> None:
    public = {(m, p) for m, p, access in ROUTES if access is Access.PUBLIC}
    assert public - PUBLIC == set(), "new public routes: allow them in PUBLIC on purpose"
    assert PUBLIC - public == set(), "allowed routes that are no longer public"


@pytest.fixture(scope="module")
def secured(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("route-access")
    AccountFile(data_dir / "users.json").add(*USER)
    settings = Settings(
        data_dir=data_dir,
        catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
        users_file=data_dir / "users.json",
        login_max_failures=1_000_000,  # every route gets wrong credentials; the login
    )  # throttle (429) has its own tests in test_auth.py
    with TestClient(create_app(settings)) as client:
        yield client


def _url(path: str) -> str:
    """A concrete URL of a route path (every parameter a plausible but unknown value)."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: UNKNOWN if m.group(1) != "fmt" else "png",
                  path)


USER_ROUTES = [(m, p) for m, p, access in ROUTES if access is Access.USER]
SERVICE_ROUTES = [(m, p) for m, p, access in ROUTES if access is Access.SERVICE]


@pytest.mark.parametrize(("method", "path"), USER_ROUTES, ids=[f"{m} {p}" for m, p in USER_ROUTES])
def test_user_routes_need_credentials(secured: TestClient, method: str, path: str) -> None:
    anonymous = secured.request(method, _url(path))
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = secured.request(method, _url(path), auth=(USER[0], "wrong"))
    assert wrong.status_code == 403, wrong.text


@pytest.mark.parametrize(
    ("method", "path"), SERVICE_ROUTES, ids=[f"{m} {p}" for m, p in SERVICE_ROUTES]
)
def test_service_routes_need_an_existing_service(
    secured: TestClient, method: str, path: str
) -> None:
    response = secured.request(method, _url(path))
    assert response.status_code == 404, response.text
    assert f"{UNKNOWN!r}" in response.text


def test_openapi_marks_exactly_the_public_operations() -> None:
    routed = {
        (m.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", p))
        for m, p, access in ROUTES
        if access is Access.PUBLIC and (m, p) not in SELF_AUTHENTICATING
    }
    described = {
        (method, path)
        for path, item in document(PROTOCOLS)["paths"].items()
        for method, op in item.items()
        if op.get("security") == []
    }
    undocumented = tuple(prefix for p in PROTOCOLS for prefix in p.undocumented)
    assert described == {(m, p) for m, p in routed if not p.startswith(undocumented)}


def test_routes_are_guarded_routes() -> None:
    app = create_app(Settings())
    for route in app.routes:
        if isinstance(route, Route):
            assert route_access(route) is not None, route.path
