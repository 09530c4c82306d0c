"""Shared fixtures: the demo catalog (generated once per run), an app client, the fixtures."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from ondemand.store import Database
from ondemand.store.postgres import PostgresDatabase
from ondemand.store.sqlite import SQLiteDatabase
from services import create_app
from tests.support.polygons import NAME, POLYGON
from tests.support.postgres import Postgres, running_postgres, why_no_postgres
from tests.support.s3 import CREDENTIALS, s3_server, why_no_s3

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Earth-observation fixtures beside the project (CI always has them)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data fixtures not found at {SHARED_DATA} (they ship beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the full-size demo catalog, generated once per test run."""
    data_dir = tmp_path_factory.mktemp("data")
    ensure_demo_catalog(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def demo_catalog(demo_data_dir: Path) -> Catalog:
    """The demo catalog, loaded through the same path the server uses."""
    return Catalog.load(ensure_demo_catalog(demo_data_dir))


@pytest.fixture(scope="session")
def client(demo_data_dir: Path) -> Iterator[TestClient]:
    """A client of the app serving the demo catalog."""
    settings = Settings(data_dir=demo_data_dir, demo=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def uploaded(client: TestClient) -> Iterator[None]:
    """The polygon of ``tests.support.polygons`` in the local user's files, removed afterwards."""


    response = client.put(f"/users/me/files/{NAME}", content=json.dumps(POLYGON).encode())
    assert response.status_code == 204, response.text
    yield
    client.delete(f"/users/me/files/{NAME}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server for the run (initdb in a temporary folder, on loopback)."""
    reason = why_no_postgres()
    if reason is not None:
        pytest.skip(reason)
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty store database of each kind: the same store tests run against both."""
    if request.param == "sqlite":
        yield SQLiteDatabase(tmp_path / "jobs.sqlite")
        return
    server: Postgres = request.getfixturevalue("postgres")
    db = PostgresDatabase(server.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on loopback for the run."""
    reason = why_no_s3()
    if reason is not None:
        pytest.skip(reason)
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture()
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test S3 server's credentials in the environment, as a deployment sets them."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
