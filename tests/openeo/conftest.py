"""A live server with real Landsat 8 and Sentinel-2 data, two users, and openEO clients
whose every JSON response is validated against openeo-api 1.2.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ondemand.accounts import AccountFile
from ondemand.settings import Settings
from tests.support.live import live_server
from tests.support.openeo_spec import openapi_document, requests_hook

openeo = pytest.importorskip("openeo", reason="the openeo client is a test dependency")

ALICE = ("alice", "alice-password")
BOB = ("bob", "bob-password")
COLLECTIONS = ("landsat8-ny-2018", "s2-l2a-29rkh")


@pytest.fixture(scope="package")
def server(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live ``ondemand serve`` over the real fixtures, with users alice and bob."""
    data_dir = tmp_path_factory.mktemp("openeo")
    accounts = AccountFile(data_dir / "users.json")
    accounts.add(*ALICE)
    accounts.add(*BOB)
    settings = Settings(
        data_dir=data_dir,
        catalogs=tuple(shared_data / c / "collection.json" for c in COLLECTIONS),
        users_file=data_dir / "users.json",
        batch_workers=1,
        batch_jobs=1,
        batch_chunk_size=64,
    )
    with live_server(settings) as url:
        yield {"url": url, "data_dir": data_dir, "settings": settings}


@pytest.fixture(scope="package")
def checked() -> list[str]:
    """Every 1.2 response the clients got and the spec validated."""
    openapi_document()
    return []


def connect(server: dict[str, Any], checked: list[str], user: tuple[str, str] | None) -> Any:
    """An openEO connection found by version discovery, validating every response."""
    session = requests.Session()
    session.hooks["response"].append(requests_hook(checked))
    con = openeo.connect(server["url"], session=session, auto_validate=False)
    if user is not None:
        con.authenticate_basic(*user)
    return con


@pytest.fixture(scope="package")
def alice(server: dict[str, Any], checked: list[str]) -> Any:
    """Alice's authenticated connection."""
    return connect(server, checked, ALICE)


@pytest.fixture(scope="package")
def bob(server: dict[str, Any], checked: list[str]) -> Any:
    """Bob's authenticated connection."""
    return connect(server, checked, BOB)
