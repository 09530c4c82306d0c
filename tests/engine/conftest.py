"""Fixtures of the engine tests that read the real Landsat 8 scenes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio.raw
import pytest
import shapely

from ondemand.catalog import Catalog
from ondemand.engine import Engine
from ondemand.settings import Settings
from ondemand.userfiles import UserFiles
from ondemand.window import Window
from tests.support.openeo import LANDSAT, LANDSAT_SCENE, Runner, band_file, file_window


@pytest.fixture(scope="module")
def landsat_runner(shared_data: Path) -> Iterator[Runner]:
    """A runner over the Landsat 8 collection alone."""
    with Runner([shared_data / LANDSAT]) as runner:
        yield runner


@pytest.fixture(scope="module")
def landsat_scene(shared_data: Path) -> Path:
    """The item folder of ``LANDSAT_SCENE``."""
    return shared_data / LANDSAT / LANDSAT_SCENE


@pytest.fixture(scope="module")
def landsat_window(landsat_scene: Path) -> Window:
    """The scene's own grid: reads on it are the files' pixels."""
    return file_window(band_file(landsat_scene, "B4"))


@pytest.fixture(scope="module")
def districts(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """An engine over the Landsat collection, and its NYC districts in the user's files.

    ``engine``, ``files`` (``nycd.gpkg`` at their root), ``geoms`` (the districts as
    shapely geometries, in the file's CRS) and ``collection``.
    """
    folder = shared_data / LANDSAT
    catalog = Catalog.load([folder / "collection.json"])
    data_dir = tmp_path_factory.mktemp("districts")
    files = UserFiles.of(data_dir, "local", max_file_bytes=10**8, quota_bytes=10**9)
    files.root.mkdir(parents=True)
    shutil.copy(folder / "nycd.gpkg", files.root / "nycd.gpkg")
    _, _, wkb, _ = pyogrio.raw.read(folder / "nycd.gpkg")
    engine = Engine(catalog, Settings(data_dir=data_dir))
    yield {"engine": engine, "files": files, "geoms": list(shapely.from_wkb(wkb)),
           "collection": catalog.get(LANDSAT)}
    engine.close()
