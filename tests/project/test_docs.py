"""The documentation stays true to the code: the reference is current, the examples' values right.

Each example of ``docs/examples`` runs through ``POST /jobs/execute`` and its pixels
are compared with numpy on the source COGs of the demo catalog, read with plain
rasterio (B04 and B8A of every January 2017 date over the example's box; SCL for the
cloud mask), not with the engine.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from ondemand.processes.docs import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = sorted(p.name for p in (DOCS / "examples").glob("*.json"))
BOUNDS = (652000.0, 5161000.0, 672000.0, 5181000.0)
"""The examples' box (EPSG:32632): 1000 x 1000 pixels of the collection's 20 m grid."""
CLOUDS = (3, 8, 9, 10)
"""SCL classes the cloud-free example masks (no data, 0, is masked too)."""


def test_process_reference_is_current() -> None:
    assert (DOCS / "processes.md").read_text() == render_reference(), (
        "docs/processes.md is stale: run `python -m ondemand.processes.docs > docs/processes.md`"
    )


def test_every_example_is_checked() -> None:
    assert EXAMPLES == sorted(EXPECTED), "check the new example's values in EXPECTED"


def _read(href: str) -> tuple[np.ma.MaskedArray, Any]:
    """The box's pixels of one band file, its no data masked, and their transform."""
    with rasterio.open(href) as src:
        window = from_bounds(*BOUNDS, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=window, masked=True)
        return data, src.window_transform(window)


def _ndvi_per_date(catalog: Catalog, cloud_free: bool) -> tuple[np.ma.MaskedArray, Any]:
    collection = catalog.get("S2_L2A_T32TPS_20M")
    start, end = datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 2, 1, tzinfo=UTC)
    days, transform = [], None
    for item in collection.items:
        if not start <= item.datetime < end:
            continue
        red, transform = _read(item.assets["B04"].href)
        nir, _ = _read(item.assets["B8A"].href)
        red, nir = red.astype(np.float64) * 1e-4, nir.astype(np.float64) * 1e-4
        ndvi = (nir - red) / (nir + red)
        if cloud_free:
            scl, _ = _read(item.assets["SCL"].href)
            cloudy = np.isin(scl.filled(0), CLOUDS) | np.ma.getmaskarray(scl)
            ndvi = np.ma.masked_where(cloudy | np.ma.getmaskarray(ndvi), ndvi)
        days.append(ndvi)
    assert len(days) == 3, "the demo has three January 2017 dates"
    return np.ma.stack(days), transform


def _min_ndvi(catalog: Catalog) -> tuple[np.ma.MaskedArray, Any]:
    days, transform = _ndvi_per_date(catalog, cloud_free=False)
    return days.min(axis=0), transform


def _max_cloud_free_ndvi(catalog: Catalog) -> tuple[np.ma.MaskedArray, Any]:
    days, transform = _ndvi_per_date(catalog, cloud_free=True)
    cloudy, _ = _ndvi_per_date(catalog, cloud_free=False)
    assert (days.max(axis=0) != cloudy.max(axis=0)).any(), "the clouds change the maximum"
    return days.max(axis=0), transform


EXPECTED = {"min_ndvi.json": _min_ndvi, "max_ndvi_cloudfree_flat.json": _max_cloud_free_ndvi}


def _geotiff(client: TestClient, body: dict[str, Any]) -> tuple[np.ma.MaskedArray, Any]:
    """The example's graph executed with GeoTIFF output: its band and transform."""
    body = copy.deepcopy(body)
    body["output"] = {"format": "GTiff"}
    response = client.post("/jobs/execute", json=body)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        return dataset.read(1, masked=True), dataset.transform


@pytest.mark.parametrize("name", EXAMPLES)
def test_documented_example_values(client: TestClient, demo_catalog: Catalog, name: str) -> None:
    body = json.loads((DOCS / "examples" / name).read_text())
    response = client.post("/jobs/execute", json=body)  # as documented
    assert response.status_code == 200, f"{name}: {response.text}"
    expected, transform = EXPECTED[name](demo_catalog)
    valid = ~np.ma.getmaskarray(expected)
    assert valid.mean() > 0.2
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert (dataset.width, dataset.height) == (1000, 1000)
        if dataset.dtypes[0] == "float32":  # the GeoTIFF example: the values themselves
            assert dataset.transform == transform
            got = dataset.read(1, masked=True)
        else:  # a picture: its transparency is the no data; the values from GeoTIFF
            alpha = dataset.read(dataset.count)
            np.testing.assert_array_equal(alpha > 0, valid)
            got, got_transform = _geotiff(client, body)
            assert got_transform == transform
    np.testing.assert_array_equal(~np.ma.getmaskarray(got), valid)
    np.testing.assert_allclose(got.filled(np.nan)[valid], expected.filled(np.nan)[valid],
                               rtol=1e-6, atol=1e-7)
