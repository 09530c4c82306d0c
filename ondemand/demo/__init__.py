"""The built-in demo catalog: synthetic but realistic Sentinel-2-like collections.

Two static STAC collections of single-band COGs are generated deterministically (fixed
seeds) into ``data_dir / "demo"`` on first use:

* ``S2_L2A_T32TPS_20M``: 20 m surface reflectance plus an SCL scene classification,
  EPSG:32632, three dates in January 2017 and then one a month until January 2018.
* ``Sentinel2-L1C`` (aliases ``Sentinel2A-L1C``, ``Sentinel-2A-L1C``): all 13 bands with
  the API draft's band ids, EPSG:32633, three dates in January 2017, stored at 60 m.

The landscape holds agricultural parcels with a seasonal NDVI cycle (crop-dependent
phase), grassland, forest, bare soil, towns, a river and lakes. Clouds brighten the
reflectance and are recorded in SCL (8/9 cloud, 10 thin cirrus) with their shadows
(3); some dates lack a diagonal strip along one side (nodata 0, SCL 0), as at the edge
of a satellite swath. Everything is defined in map coordinates, so a coarser
``downscale`` shows the same landscape with fewer pixels.

:mod:`.specs` defines the collections, :mod:`.landscape` the pixels and :mod:`.stac`
the JSON; this module writes them and keeps the generated catalog current.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy

from .landscape import day_scene, landscape, pixel_grid, reflectance
from .specs import Acquisition, CollectionSpec, collection_specs
from .stac import collection_json, item_json

__all__ = ["GENERATOR_VERSION", "MARKER", "collection_specs", "ensure_demo_catalog",
           "generate_demo"]

GENERATOR_VERSION = 1
"""Bump when the output changes: existing demo directories are then regenerated."""

MARKER = "demo-version.json"
_BLOCK = 512


def ensure_demo_catalog(data_dir: Path, *, downscale: int = 1) -> list[Path]:
    """Return the demo's ``collection.json`` paths, generating them on first use.

    The catalog lives in ``data_dir / "demo"``. It is generated into a temporary sibling
    directory and renamed into place, under a file lock, so a crash never leaves a half
    catalog and concurrent processes generate it once. A version marker (generator
    version and ``downscale``) triggers regeneration when either changes.
    """
    data_dir = Path(data_dir)
    root = data_dir / "demo"
    marker = {"generator": GENERATOR_VERSION, "downscale": downscale}
    if _is_current(root, marker):
        return _collection_paths(root, downscale)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir / ".demo.lock"):
        if _is_current(root, marker):
            return _collection_paths(root, downscale)
        tmp = Path(tempfile.mkdtemp(prefix=".demo-tmp-", dir=data_dir))
        old: Path | None = None
        try:
            generate_demo(tmp, downscale=downscale)
            (tmp / MARKER).write_text(json.dumps(marker))
            if root.exists():
                old = data_dir / f".demo-old-{uuid.uuid4().hex}"
                root.rename(old)
            tmp.rename(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    return _collection_paths(root, downscale)


def _is_current(root: Path, marker: dict[str, int]) -> bool:
    """Whether ``root`` holds a complete demo made by this generator version."""
    try:
        found = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return bool(found == marker)


def _collection_paths(root: Path, downscale: int) -> list[Path]:
    """The collection.json paths inside a demo directory."""
    return [root / spec.id / "collection.json" for spec in collection_specs(downscale)]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (blocks until free)."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def generate_demo(target: Path, *, downscale: int = 1, threads: int | None = None) -> list[Path]:
    """Write all demo collections under ``target`` (no caching); return collection paths."""
    target = Path(target)
    workers = threads or max(2, os.cpu_count() or 2)
    paths = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for spec in collection_specs(downscale):
            paths.append(_write_collection(target / spec.id, spec, pool))
    return paths


def _write_cog(path: Path, array: np.ndarray, crs: CRS, transform: Affine) -> None:
    """Write one single-band COG (512 tiles, DEFLATE, overviews, nodata 0)."""
    height, width = array.shape
    profile: dict[str, Any] = {
        "driver": "GTiff", "count": 1, "height": height, "width": width,
        "dtype": array.dtype.name, "crs": crs, "transform": transform, "nodata": 0,
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as tmp:
            tmp.write(array, 1)
            rio_copy(
                tmp, str(path), driver="COG", BLOCKSIZE=_BLOCK, COMPRESS="DEFLATE",
                PREDICTOR="2", LEVEL="6", OVERVIEWS="AUTO", OVERVIEW_RESAMPLING="NEAREST",
            )


def _write_collection(out: Path, spec: CollectionSpec, pool: ThreadPoolExecutor) -> Path:
    """Write one collection (COGs, items, collection.json); return collection.json."""
    grid = pixel_grid(spec)
    crs = CRS.from_epsg(spec.epsg)
    land = landscape(spec, grid)
    out.mkdir(parents=True, exist_ok=True)

    def one_date(k: int, acq: Acquisition) -> dict[str, Any]:
        item_id = f"{spec.id}_{acq.when:%Y%m%d}"
        item_dir = out / item_id
        item_dir.mkdir(parents=True, exist_ok=True)
        scene = day_scene(spec, grid, land, acq, k)
        for band in spec.bands:
            if band.name == "SCL":
                assert scene.scl is not None
                array = scene.scl
            else:
                array = reflectance(band.name, land, scene, spec.toa)
            _write_cog(item_dir / f"{band.name}.tif", array, crs, grid.transform)
        item = item_json(spec, grid, acq, item_id)
        (item_dir / f"{item_id}.json").write_text(json.dumps(item, indent=1))
        return item

    items = list(pool.map(lambda ka: one_date(*ka), enumerate(spec.dates)))
    collection = collection_json(spec, items)
    path = out / "collection.json"
    path.write_text(json.dumps(collection, indent=1))
    return path
