"""The real remote parts: PostgreSQL + pgSTAC + stac-fastapi-pgstac, and a COG range server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import Postgres, running_postgres
from tests.support.stacapi import (
    RangeServer,
    collection_docs,
    earth_search_shape,
    load_pgstac,
    range_server,
    stac_api_process,
    stac_python,
    why_no_stac_api,
)

SERVED = ("landsat8-ny-2018", "s2-ndvi-slovenia")
"""Shared-data collections loaded into pgSTAC under their own ids."""
EARTH_SEARCH_ID = "sentinel-2-l2a"
"""``s2-l2a-29rkh`` loaded the way Earth Search publishes Sentinel-2 (red, nir, scl)."""


@dataclass
class Remote:
    """The running parts: the STAC API URL, the COG server, the database server."""

    api_url: str
    files: RangeServer
    postgres: Postgres
    python: Path


@pytest.fixture(scope="session")
def files(shared_data: Path) -> Iterator[RangeServer]:
    """The shared data folder served over HTTP with Range support and a request log."""
    with range_server(shared_data) as server:
        yield server


@pytest.fixture(scope="session")
def remote(shared_data: Path, files: RangeServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    """pgSTAC loaded with the shared collections (assets on ``files``), served by
    stac-fastapi-pgstac on loopback."""
    problem = why_no_stac_api()
    if problem:
        pytest.skip(f"no real STAC API: {problem}")
    python = stac_python()
    assert python is not None
    docs = [collection_docs(shared_data, name, files.url) for name in SERVED]
    docs.append(earth_search_shape(*collection_docs(shared_data, "s2-l2a-29rkh", files.url),
                                   EARTH_SEARCH_ID))
    work = tmp_path_factory.mktemp("pgstac")
    with running_postgres() as server:
        load_pgstac(server, python, docs, work)
        with stac_api_process(python, server, work / "api.log") as api:
            yield Remote(api.url, files, server, python)
