"""The documentation stays true to the code: the reference is current, the examples' values right.

Each example of ``docs/examples`` runs through ``POST /jobs/execute`` as documented
and once more with a float GeoTIFF output; those pixels are compared with numpy on the
source COGs of the demo catalog, read with plain rasterio (B04 and B8A of every
January 2017 date over the result's box; SCL for the cloud mask; pyproj for a box
given in degrees), not with the engine. A picture's transparency must be the no data.
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
from pyproj import Transformer
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


def _read(href: str, bounds: tuple[float, ...]) -> tuple[np.ma.MaskedArray, Any]:
    """The box's pixels of one band file, its no data masked, and their transform."""
    with rasterio.open(href) as src:
        window = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=window, masked=True)
        return data, src.window_transform(window)


def ndvi_per_date(
    catalog: Catalog, bounds: tuple[float, ...], cloud_free: bool
) -> tuple[np.ma.MaskedArray, Any]:
    """NDVI of every January 2017 date over ``bounds`` (EPSG:32632), from the files."""
    collection = catalog.get("S2_L2A_T32TPS_20M")
    start, end = datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 2, 1, tzinfo=UTC)
    days, transform = [], None
    for item in collection.items:
        if not start <= item.datetime < end:
            continue
        red, transform = _read(item.assets["B04"].href, bounds)
        nir, _ = _read(item.assets["B8A"].href, bounds)
        red, nir = red.astype(np.float64) * 1e-4, nir.astype(np.float64) * 1e-4
        ndvi = (nir - red) / (nir + red)
        if cloud_free:
            scl, _ = _read(item.assets["SCL"].href, bounds)
            cloudy = np.isin(scl.filled(0), CLOUDS) | np.ma.getmaskarray(scl)
            ndvi = np.ma.masked_where(cloudy | np.ma.getmaskarray(ndvi), ndvi)
        days.append(ndvi)
    assert len(days) == 3, "the demo has three January 2017 dates"
    return np.ma.stack(days), transform


EXPECTED: dict[str, tuple[str, bool, tuple[float, ...] | None]] = {
    "min_ndvi.json": ("min", False, BOUNDS),
    "min_ndvi_jpeg.json": ("min", False, BOUNDS),
    "max_ndvi_cloudfree_flat.json": ("max", True, BOUNDS),
    "openeo-ndvi-max-png.json": ("max", False, None),
}
"""Per example: the reduction over time, whether clouds are masked, and the box (None:
a box in degrees, checked on the grid the result has)."""


def _inside(extent: dict[str, float], transform: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Which pixel centres of a UTM 32N grid lie inside a west/south/east/north box."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    to_degrees = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lon, lat = to_degrees.transform(xs, ys)
    return np.asarray(
        (lon >= extent["west"]) & (lon <= extent["east"])
        & (lat >= extent["south"]) & (lat <= extent["north"])
    )


def _as_geotiff(body: dict[str, Any]) -> dict[str, Any]:
    """The example with a float GeoTIFF output (its ``save_result`` or its ``output``)."""
    body = copy.deepcopy(body)
    graph = body["process_graph"]
    saves = [n for n in graph.values() if isinstance(n, dict)
             and n.get("process_id") == "save_result"]
    for node in saves:
        node["arguments"]["format"], node["arguments"]["options"] = "GTiff", {}
    if not saves:
        body["output"] = {"format": "GTiff"}
    return body


@pytest.mark.parametrize("name", EXAMPLES)
def test_documented_example_values(client: TestClient, demo_catalog: Catalog, name: str) -> None:
    body = json.loads((DOCS / "examples" / name).read_text())
    documented = client.post("/jobs/execute", json=body)
    assert documented.status_code == 200, f"{name}: {documented.text}"
    response = client.post("/jobs/execute", json=_as_geotiff(body))
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        got, transform = dataset.read(1, masked=True), dataset.transform
        bounds = tuple(dataset.bounds)
    reduction, cloud_free, box = EXPECTED[name]
    assert box is None or bounds == box
    days, read_transform = ndvi_per_date(demo_catalog, bounds, cloud_free)
    expected = days.min(axis=0) if reduction == "min" else days.max(axis=0)
    if box is None:  # pixels whose centre lies outside the box in degrees are no data
        extent = body["process_graph"]["load"]["arguments"]["spatial_extent"]
        expected = np.ma.masked_where(~_inside(extent, transform, expected.shape), expected)
    if cloud_free:
        plain, _ = ndvi_per_date(demo_catalog, bounds, False)
        assert (expected != plain.max(axis=0)).any(), "the clouds change the maximum"
    assert read_transform == transform and got.shape == expected.shape
    valid = ~np.ma.getmaskarray(expected)
    assert valid.mean() > 0.2
    np.testing.assert_array_equal(~np.ma.getmaskarray(got), valid)
    np.testing.assert_allclose(got.filled(np.nan)[valid], expected.filled(np.nan)[valid],
                               rtol=1e-6, atol=1e-7)
    with MemoryFile(documented.content) as memfile, memfile.open() as dataset:
        assert dataset.shape == got.shape
        if dataset.crs is not None:
            assert dataset.transform == transform
        if dataset.dtypes[0] == "float32":  # the documented GeoTIFF holds the same values
            np.testing.assert_array_equal(dataset.read(1), got.filled(np.nan))
        else:  # a picture: its transparency (alpha or mask band) is the no data
            np.testing.assert_array_equal(dataset.dataset_mask() > 0, valid)
