"""The evaluator on the real fixtures, checked against numpy on the source pixels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS

from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import Engine
from ondemand.errors import NoData, PixelLimitExceeded
from ondemand.evaluate import compile_graph, plan_loads
from ondemand.grid import default_window
from ondemand.settings import Settings
from ondemand.window import Window


@pytest.fixture(scope="module")
def engine(shared_data: Path) -> Iterator[Engine]:
    catalog = Catalog.load(
        [
            shared_data / "s2-l1c-18svg" / "collection.json",
            shared_data / "landsat8-ny-2018" / "collection.json",
        ]
    )
    eng = Engine(catalog, Settings(max_pixels=50_000_000))
    yield eng
    eng.close()


def _read(href: str) -> tuple[np.ndarray, Any]:
    with rasterio.open(href) as src:
        return src.read(1), src.transform


def test_mixed_resolution_ndvi_meets_on_the_10m_grid(engine: Engine) -> None:
    graph = {
        "process_id": "NDVI",
        "args": {"imagery": {"product_id": "s2-l1c-18svg"}, "red": "B04", "nir": "B8A"},
    }
    compiled = engine.compile(graph)
    assert {load.bands for load in compiled.loads} == {("B04", "B8A")}  # only those are read
    window = default_window(compiled)
    assert (window.width, window.height) == (1024, 1024)
    cube = engine.evaluate(compiled, window)
    assert isinstance(cube, Cube)
    item = engine.catalog.get("s2-l1c-18svg").items[0]
    red, _ = _read(item.assets["B04"].href)
    nir20, _ = _read(item.assets["B8A"].href)
    nir = np.repeat(np.repeat(nir20, 2, axis=0), 2, axis=1)  # nearest: each 20 m pixel covers 2x2
    r, n = red.astype(np.float64), nir.astype(np.float64)
    invalid = (red == 0) | (nir == 0) | (r + n == 0)
    with np.errstate(all="ignore"):
        expected = (n - r) / (n + r)
    got = cube.data[0, 0]
    np.testing.assert_array_equal(np.ma.getmaskarray(got), invalid)
    np.testing.assert_allclose(got.data[~invalid], expected[~invalid], atol=1e-6)


def _centre_lookup(window: Window, raw: np.ndarray, transform: Any) -> np.ndarray:
    """Independent nearest neighbour: the source pixel under each window pixel centre."""
    cols, rows = np.meshgrid(np.arange(window.width) + 0.5, np.arange(window.height) + 0.5)
    xs = window.bounds[0] + cols * window.resolution[0]
    ys = window.bounds[3] - rows * window.resolution[1]
    src_col = np.floor((xs - transform.c) / transform.a).astype(int)
    src_row = np.floor((ys - transform.f) / transform.e).astype(int)
    inside = (src_col >= 0) & (src_col < raw.shape[1]) & (src_row >= 0) & (src_row < raw.shape[0])
    out = np.zeros((window.height, window.width))
    out[inside] = raw[src_row[inside], src_col[inside]]
    return out


def test_same_day_landsat_scenes_mosaic_with_stac_nodata(engine: Engine) -> None:
    graph = {
        "process_id": "filter_daterange",
        "args": {
            "imagery": {
                "process_id": "filter_bands",
                "args": {"imagery": {"product_id": "landsat8-ny-2018"}, "bands": "B4"},
            },
            "from": "2018-04-28",
            "to": "2018-04-28",
        },
    }
    compiled = engine.compile(graph)
    window = Window(CRS.from_epsg(32618), (480000.0, 4400000.0, 780000.0, 4800000.0), 150, 200)
    cube = engine.evaluate(compiled, window)
    assert cube.times is not None and [t.date() for t in cube.times] == [date(2018, 4, 28)]
    collection = engine.catalog.get("landsat8-ny-2018")
    scenes = sorted(
        (i for i in collection.items if i.datetime.date() == date(2018, 4, 28)),
        key=lambda i: (i.datetime, i.id),
    )
    assert len(scenes) == 2
    expected = np.zeros((window.height, window.width))
    for scene in scenes:
        raw, transform = _read(scene.assets["B4"].href)
        assert (raw == 0).any(), "the fixture has fill pixels the file does not declare"
        layer = _centre_lookup(window, raw, transform)
        expected = np.where(expected == 0, layer, expected)
    got = cube.data[0, 0]
    # GDAL's nearest and the centre lookup may pick different neighbours on exact ties
    agree = (np.ma.getmaskarray(got) == (expected == 0)) & (
        np.ma.getmaskarray(got) | (got.data == expected)
    )
    assert agree.mean() > 0.999
    assert (expected != 0).sum() > 5000


def test_planning_pushes_bands_dates_and_bbox_down(engine: Engine) -> None:
    graph = {
        "process_id": "min_time",
        "args": {
            "imagery": {
                "process_id": "NDVI",
                "args": {
                    "imagery": {
                        "process_id": "filter_bbox",
                        "args": {
                            "imagery": {"product_id": "s2-l1c-18svg"},
                            "left": 436000,
                            "right": 437000,
                            "top": 4178000,
                            "bottom": 4177000,
                            "srs": "EPSG:32618",
                        },
                    },
                    "red": "B04",
                    "nir": "B08",
                },
            }
        },
    }
    compiled = compile_graph(graph, engine.catalog)
    (load,) = plan_loads(compiled.graph, engine.catalog)
    assert load.bands == ("B04", "B08")
    assert load.view.bbox is not None and load.view.bbox[0] == (436000, 4177000, 437000, 4178000)
    window = default_window(compiled)
    assert window.bounds == (436000.0, 4177000.0, 437000.0, 4178000.0)
    assert (window.width, window.height) == (100, 100)


def test_pixels_outside_the_bbox_are_masked(engine: Engine) -> None:
    graph = {
        "process_id": "filter_bbox",
        "args": {
            "imagery": {
                "process_id": "filter_bands",
                "args": {"imagery": {"product_id": "s2-l1c-18svg"}, "bands": "B04"},
            },
            "left": 436000,
            "right": 437000,
            "top": 4178000,
            "bottom": 4177000,
            "srs": "EPSG:32618",
        },
    }
    compiled = engine.compile(graph)
    window = Window(CRS.from_epsg(32618), (435500.0, 4177000.0, 437500.0, 4178000.0), 200, 100)
    cube = engine.evaluate(compiled, window)
    mask = np.ma.getmaskarray(cube.data)[0, 0]
    assert mask[:, :50].all() and mask[:, 150:].all()
    assert not mask[:, 50:150].any()


def test_window_time_selection_keeps_only_those_dates(engine: Engine) -> None:
    compiled = engine.compile({"product_id": "landsat8-ny-2018"})
    collection = engine.catalog.get("landsat8-ny-2018")
    wanted = collection.items[1].datetime
    window = Window(
        CRS.from_epsg(32618), (500000.0, 4400000.0, 700000.0, 4600000.0), 20, 20, times=(wanted,)
    )
    cube = engine.evaluate(compiled, window)
    assert cube.times == (wanted,)


def test_no_data_in_window_is_a_clear_error(engine: Engine) -> None:
    compiled = engine.compile({"product_id": "s2-l1c-18svg"})
    far_away = Window(CRS.from_epsg(32618), (100000.0, 1000000.0, 101000.0, 1001000.0), 10, 10)
    with pytest.raises(NoData, match="s2-l1c-18svg"):
        engine.evaluate(compiled, far_away)


def test_pixel_budget_counts_dates_and_bands(shared_data: Path) -> None:
    catalog = Catalog.load([shared_data / "landsat8-ny-2018" / "collection.json"])
    small = Engine(catalog, Settings(max_pixels=10_000))
    compiled = small.compile({"product_id": "landsat8-ny-2018"})
    window = Window(CRS.from_epsg(32618), (480000.0, 4400000.0, 780000.0, 4800000.0), 50, 50)
    with pytest.raises(PixelLimitExceeded, match="batch"):
        small.evaluate(compiled, window)
    small.close()


@pytest.mark.parametrize(
    ("method", "differs_from_nearest"), [("bilinear", True), ("average", False)]
)
def test_resampling_of_a_coarser_band_is_gdals(
    engine: Engine, method: str, differs_from_nearest: bool
) -> None:
    from rasterio.enums import Resampling

    compiled = engine.compile(
        {
            "process_id": "filter_bands",
            "args": {"imagery": {"product_id": "s2-l1c-18svg"}, "bands": "B8A"},
        }
    )
    window = default_window(compiled, resampling=method)
    assert (window.width, window.height, window.resampling) == (1024, 1024, method)
    cube = engine.evaluate(compiled, window)
    item = engine.catalog.get("s2-l1c-18svg").items[0]
    with rasterio.open(item.assets["B8A"].href) as src:
        expected = src.read(1, out_shape=(1024, 1024), resampling=Resampling[method])
    valid = ~np.ma.getmaskarray(cube.data)[0, 0]
    assert valid.mean() > 0.9
    np.testing.assert_array_equal(cube.data[0, 0].data[valid], expected[valid].astype(np.float32))
    nearest = engine.evaluate(compiled, default_window(compiled))
    # upsampling by 2: average keeps each source value, bilinear interpolates
    same = np.array_equal(nearest.data[0, 0].data[valid], cube.data[0, 0].data[valid])
    assert same is not differs_from_nearest
