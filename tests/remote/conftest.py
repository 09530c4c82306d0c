"""The real remote parts: PostgreSQL + pgSTAC + stac-fastapi-pgstac, and a COG range server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import Postgres, running_postgres
from tests.support.stacapi import (
    RangeServer,
    broken_collection,
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


BROKEN_ID = "s2-rgb-broken"
"""``s2-rgb-mol-2023`` with B04 forbidden, missing and truncated (one date each)."""
TRUNCATED_SOURCE = "s2-rgb-mol-2023/*20230606*/B04.tif"


@pytest.fixture(scope="session")
def files(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeServer]:
    """Over HTTP with Range support and a request log: the shared data under ``/data``, a
    truncated COG under ``/broken``; ``/broken/forbidden.tif`` answers 403."""
    root = tmp_path_factory.mktemp("www")
    (root / "data").symlink_to(shared_data)
    (root / "broken").mkdir()
    source = next(shared_data.glob(TRUNCATED_SOURCE)).read_bytes()
    (root / "broken" / "truncated.tif").write_bytes(source[: len(source) // 2])
    with range_server(root) as server:
        server.rules["/broken/forbidden.tif"] = 403
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
    data_url = f"{files.url}/data"
    docs = [collection_docs(shared_data, name, data_url) for name in SERVED]
    docs.append(earth_search_shape(*collection_docs(shared_data, "s2-l2a-29rkh", data_url),
                                   EARTH_SEARCH_ID))
    docs.append(broken_collection(*collection_docs(shared_data, "s2-rgb-mol-2023", data_url),
                                  files.url, BROKEN_ID))
    work = tmp_path_factory.mktemp("pgstac")
    with running_postgres() as server:
        load_pgstac(server, python, docs, work)
        with stac_api_process(python, server, work / "api.log") as api:
            yield Remote(api.url, files, server, python)
