"""The CORS table: hostile, null, allowed and same origins; with and without credentials;
GET, PUT, DELETE and their preflights."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from services import create_app

EVIL, ALLOWED, SAME = "https://evil.example", "https://app.example", "http://testserver"
BASIC = "Basic " + base64.b64encode(b"alice:correct horse").decode()


@pytest.fixture(scope="module")
def local(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Loopback no-users mode with one allowed origin."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("cors"), cors_origins=(ALLOWED,),
                        catalogs=tuple(ensure_demo_catalog(demo_data_dir)))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def with_users(demo_data_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Accounts and ``--cors-origin '*'``: any origin, never with credentials."""
    root = tmp_path_factory.mktemp("cors_users")
    AccountFile(root / "users.json").add("alice", "correct horse")
    settings = Settings(data_dir=root / "data", users_file=root / "users.json",
                        cors_origins=("*", "null"),
                        catalogs=tuple(ensure_demo_catalog(demo_data_dir)))
    with TestClient(create_app(settings)) as client:
        yield client


# (origin, method, path, status, allow-origin header or None, credentials header or None)
LOCAL_TABLE = [
    (EVIL, "GET", "/data", 200, "*", None),
    (EVIL, "GET", "/jobs", 200, None, None),
    (EVIL, "GET", "/files/me", 200, None, None),
    (EVIL, "PUT", "/files/me/cors.txt", 403, None, None),
    (EVIL, "DELETE", "/files/me/kept.txt", 403, None, None),
    ("null", "GET", "/data", 200, None, None),
    ("null", "GET", "/files/me", 200, None, None),
    ("null", "PUT", "/files/me/cors.txt", 403, None, None),
    ("null", "DELETE", "/files/me/kept.txt", 403, None, None),
    (ALLOWED, "GET", "/files/me", 200, ALLOWED, "true"),
    (ALLOWED, "PUT", "/files/me/cors.txt", 204, ALLOWED, "true"),
    (ALLOWED, "DELETE", "/files/me/cors.txt", 204, ALLOWED, "true"),
    (SAME, "PUT", "/files/me/same.txt", 204, None, None),
    (SAME, "DELETE", "/files/me/same.txt", 204, None, None),
    (None, "PUT", "/files/me/plain.txt", 204, None, None),
]


@pytest.mark.parametrize(("origin", "method", "path", "status", "allow", "credentials"),
                         LOCAL_TABLE, ids=[f"{o}-{m}-{p}" for o, m, p, *_ in LOCAL_TABLE])
def test_local_mode(local: TestClient, origin: str | None, method: str, path: str,
                    status: int, allow: str | None, credentials: str | None) -> None:
    assert local.put("/files/me/kept.txt", content=b"keep").status_code == 204
    headers = {} if origin is None else {"Origin": origin}
    response = local.request(method, path, headers=headers,
                             content=b"x" if method == "PUT" else None)
    assert response.status_code == status, response.text
    assert response.headers.get("access-control-allow-origin") == allow
    assert response.headers.get("access-control-allow-credentials") == credentials
    assert local.get("/files/me/kept.txt").content == b"keep"
    if status == 403:
        assert response.json()["code"] == 403 and "--cors-origin" in response.json()["message"]
        assert "cors.txt" not in {e["name"] for e in local.get("/files/me").json()}


PREFLIGHTS = [
    (EVIL, "PUT", "/files/me/x", None, None),
    (EVIL, "DELETE", "/jobs/abc", None, None),
    (EVIL, "GET", "/files/me", None, None),
    (EVIL, "GET", "/collections", "*", None),
    ("null", "PUT", "/files/me/x", None, None),
    ("null", "GET", "/data", None, None),
    (ALLOWED, "PUT", "/files/me/x", ALLOWED, "true"),
    (ALLOWED, "DELETE", "/jobs/abc", ALLOWED, "true"),
]


@pytest.mark.parametrize(("origin", "method", "path", "allow", "credentials"), PREFLIGHTS,
                         ids=[f"{o}-{m}-{p}" for o, m, p, *_ in PREFLIGHTS])
def test_local_preflights(local: TestClient, origin: str, method: str, path: str,
                          allow: str | None, credentials: str | None) -> None:
    response = local.options(path, headers={"Origin": origin,
                                            "Access-Control-Request-Method": method,
                                            "Access-Control-Request-Headers": "Authorization"})
    assert response.status_code == 204
    assert response.headers.get("access-control-allow-origin") == allow
    assert response.headers.get("access-control-allow-credentials") == credentials
    if allow is not None:
        assert method in response.headers["access-control-allow-methods"]
        assert "Authorization" in response.headers["access-control-allow-headers"]


USERS_TABLE = [
    (EVIL, "GET", "/jobs", True, 200, "*"),
    (EVIL, "GET", "/jobs", False, 401, "*"),
    (EVIL, "PUT", "/files/me/u.txt", True, 204, "*"),
    (EVIL, "DELETE", "/files/me/u.txt", True, 204, "*"),
    (EVIL, "PUT", "/files/me/u.txt", False, 401, "*"),
    ("null", "GET", "/jobs", True, 200, None),
    ("null", "PUT", "/files/me/n.txt", True, 403, None),
]


@pytest.mark.parametrize(("origin", "method", "path", "authorized", "status", "allow"),
                         USERS_TABLE,
                         ids=[f"{o}-{m}-{p}-{a}" for o, m, p, a, *_ in USERS_TABLE])
def test_users_mode_with_any_origin(with_users: TestClient, origin: str, method: str,
                                    path: str, authorized: bool, status: int,
                                    allow: str | None) -> None:
    headers = {"Origin": origin}
    if authorized:
        headers["Authorization"] = BASIC
    response = with_users.request(method, path, headers=headers,
                                  content=b"x" if method == "PUT" else None)
    assert response.status_code == status, response.text
    assert response.headers.get("access-control-allow-origin") == allow
    assert "access-control-allow-credentials" not in response.headers


def test_any_origin_needs_users(demo_data_dir: Path, tmp_path: Path) -> None:
    """Without accounts, '*' is ignored: a page elsewhere could change the local files."""
    settings = Settings(data_dir=tmp_path, cors_origins=("*",),
                        catalogs=tuple(ensure_demo_catalog(demo_data_dir)))
    with TestClient(create_app(settings)) as client:
        put = client.put("/files/me/x.txt", content=b"x", headers={"Origin": EVIL})
        assert put.status_code == 403
        assert client.get("/files/me", headers={"Origin": EVIL}).headers.get(
            "access-control-allow-origin") is None
