"""Stored process graphs per user, and the draft's reserved endpoints (UDFs, credits,
registration)."""

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
from tests.support.seed import use_case_1_job

ALICE = ("alice", "correct horse")
BOB = ("bob", "battery staple")


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _app(demo_data_dir: Path, data_dir: Path, register: bool) -> TestClient:
    users = data_dir / "users.json"
    if not users.exists():
        AccountFile(users).add(*ALICE)
        AccountFile(users).add(*BOB)
    settings = Settings(data_dir=data_dir, catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
                        users_file=users, allow_registration=register)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def secured(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[TestClient]:
    with _app(demo_data_dir, tmp_path_factory.mktemp("graphs"), register=False) as client:
        yield client


def test_crud_of_stored_graphs(secured: TestClient) -> None:
    alice = basic(*ALICE)
    graph = use_case_1_job()["process_graph"]
    assert secured.get("/process_graphs", headers=alice).json() == []
    created = secured.post("/process_graphs", json=graph, headers=alice)
    assert created.status_code == 200, created.text
    graph_id = created.json()["process_graph_id"]
    assert created.headers["location"] == f"/process_graphs/{graph_id}"
    assert secured.get("/process_graphs", headers=alice).json() == [graph_id]
    assert secured.get(f"/process_graphs/{graph_id}", headers=alice).json() == graph
    other = graph["args"]["imagery"]
    replaced = secured.put(f"/process_graphs/{graph_id}", json=other, headers=alice)
    assert replaced.status_code == 204, replaced.text
    assert secured.get(f"/process_graphs/{graph_id}", headers=alice).json() == other
    assert secured.delete(f"/process_graphs/{graph_id}", headers=alice).status_code == 204
    assert secured.get(f"/process_graphs/{graph_id}", headers=alice).status_code == 404
    assert secured.get("/process_graphs", headers=alice).json() == []


def test_invalid_graphs_are_not_stored(secured: TestClient) -> None:
    alice = basic(*ALICE)
    bad = secured.post("/process_graphs", json={"process_id": "nope", "args": {}}, headers=alice)
    assert bad.status_code == 400 and bad.json()["code"] == 2101
    assert secured.post("/process_graphs", headers=alice).json()["code"] == 2001
    assert secured.get("/process_graphs", headers=alice).json() == []


def test_graphs_are_private_to_their_owner(secured: TestClient) -> None:
    alice, bob = basic(*ALICE), basic(*BOB)
    graph = use_case_1_job()["process_graph"]
    graph_id = secured.post("/process_graphs", json=graph, headers=alice).json()["process_graph_id"]
    assert secured.get("/process_graphs", headers=bob).json() == []
    assert secured.get(f"/process_graphs/{graph_id}", headers=bob).status_code == 404
    assert secured.put(f"/process_graphs/{graph_id}", json=graph, headers=bob).status_code == 404
    assert secured.delete(f"/process_graphs/{graph_id}", headers=bob).status_code == 404
    assert secured.get(f"/process_graphs/{graph_id}", headers=alice).json() == graph
    assert secured.get("/process_graphs").status_code == 401


def test_udf_runtimes_none_and_credits_infinity(secured: TestClient) -> None:
    assert secured.get("/udf_runtimes").json() == []
    missing = secured.get("/udf_runtimes/python/apply_pixel")
    assert missing.status_code == 404 and "no user-defined functions" in missing.json()["message"]
    credits = secured.get("/credits", headers=basic(*ALICE))
    assert (credits.status_code, credits.text) == (200, "Infinity")
    assert credits.headers["content-type"].startswith("text/plain")
    assert secured.get("/credits").status_code == 401


def test_registration_is_refused_by_default(secured: TestClient) -> None:
    refused = secured.post("/auth/register", json="a long password")
    assert refused.status_code == 403
    assert "--allow-registration" in refused.json()["message"]


def test_registration_when_allowed(demo_data_dir: Path, tmp_path: Path) -> None:
    with _app(demo_data_dir, tmp_path, register=True) as client:
        assert client.post("/auth/register", json="short").status_code == 400
        assert client.post("/auth/register", json={"password": "x" * 9}).status_code == 400
        created = client.post("/auth/register", json="a long password")
        assert created.status_code == 200, created.text
        user_id = created.json()
        assert isinstance(user_id, str) and user_id in AccountFile(tmp_path / "users.json").load()
        login = client.get("/auth/login", headers=basic(user_id, "a long password"))
        assert login.status_code == 200 and login.json()["user_id"] == user_id
        assert client.get("/auth/login", headers=basic(user_id, "wrong one!")).status_code == 403
