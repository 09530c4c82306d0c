from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

from ondemand.catalog import Catalog, Collection
from ondemand.errors import AssetUnreadable
from ondemand.read import RasterReader, group_by_day
from ondemand.window import Window
from tests.support.cogs import make_collection

UTM = CRS.from_epsg(32632)
ORIGIN = Affine(20.0, 0.0, 650000.0, 0.0, -20.0, 5183000.0)
DAY = datetime(2017, 1, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def reader() -> Iterator[RasterReader]:
    r = RasterReader(threads=4)
    yield r
    r.close()


def _ramp(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 10000, size=shape, dtype=np.uint16)


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Collection:
    """Two items on one day (overlapping, the second fills the first's nodata) and one later."""
    root = tmp_path_factory.mktemp("read")
    a = _ramp((200, 200), 1)
    a[:, :50] = 0  # nodata strip on the left of the first item
    b = _ramp((200, 200), 2)
    c = _ramp((200, 200), 3)
    path = make_collection(
        root / "c",
        [
            ("a", DAY, {"B04": (a, 0, 0.0001, 0.0), "B8A": (a[::2, ::2].copy(), 0, 0.0001, 0.0)}),
            (
                "b",
                DAY.replace(hour=10, minute=5),
                {"B04": (b, 0, 0.0001, 0.0), "B8A": (b[::2, ::2].copy(), 0, 0.0001, 0.0)},
            ),
            (
                "c",
                datetime(2017, 1, 13, tzinfo=UTC),
                {"B04": (c, 0, 0.0001, 0.0), "B8A": (c[::2, ::2].copy(), 0, 0.0001, 0.0)},
            ),
        ],
        UTM,
        ORIGIN,
        overviews=True,
    )
    return Catalog.load([path]).get("c")


def _source(collection: Collection, item: str, band: str) -> np.ndarray:
    found = next(i for i in collection.items if i.id == item)
    with rasterio.open(found.assets[band].href) as src:
        return src.read(1)


def test_native_window_reads_source_pixels_exactly(
    collection: Collection, reader: RasterReader
) -> None:
    window = Window(UTM, (650400.0, 5180000.0, 651400.0, 5181000.0), 50, 50)
    acquisitions = group_by_day(collection.items)
    cube = reader.read_cube(collection, acquisitions[1:], [collection.band("B04")], window)
    raw = _source(collection, "c", "B04")
    # window starts 20 px right, 100 px down
    expected = raw[100:150, 20:70].astype(np.float32) * np.float32(0.0001)
    np.testing.assert_array_equal(cube.data[0, 0].data, expected)
    assert not cube.data.mask.any()
    assert cube.times == (datetime(2017, 1, 13, tzinfo=UTC),)


def test_same_day_items_are_mosaicked_first_valid_wins(
    collection: Collection, reader: RasterReader
) -> None:
    window = Window(UTM, (650000.0, 5179000.0, 654000.0, 5183000.0), 200, 200)
    acquisitions = group_by_day(collection.items)
    assert [len(a.items) for a in acquisitions] == [2, 1]
    cube = reader.read_cube(collection, acquisitions[:1], [collection.band("B04")], window)
    a = _source(collection, "a", "B04")
    b = _source(collection, "b", "B04")
    expected = np.where(a == 0, b, a).astype(np.float32) * np.float32(0.0001)
    np.testing.assert_array_equal(cube.data[0, 0].data, expected)
    assert not cube.data.mask.any()


def test_nodata_and_outside_are_masked(collection: Collection, reader: RasterReader) -> None:
    # half the window lies west of the data
    window = Window(UTM, (649000.0, 5182000.0, 651000.0, 5183000.0), 100, 50)
    acquisitions = [a for a in group_by_day(collection.items) if len(a.items) == 1]
    cube = reader.read_cube(collection, acquisitions, [collection.band("B04")], window)
    mask = cube.data.mask[0, 0]
    assert mask[:, :50].all()
    assert not mask[:, 50:].any()


def test_coarser_band_meets_window_grid_by_nearest(
    collection: Collection, reader: RasterReader
) -> None:
    window = Window(UTM, (650000.0, 5181000.0, 652000.0, 5183000.0), 100, 100)
    acquisitions = group_by_day(collection.items)[1:]
    cube = reader.read_cube(collection, acquisitions, [collection.band("B8A")], window)
    coarse = _source(collection, "c", "B8A")  # 40 m pixels
    expected = np.repeat(np.repeat(coarse[:50, :50], 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(
        cube.data[0, 0].data, expected.astype(np.float32) * np.float32(0.0001)
    )


def test_reprojected_window_samples_the_source_pixel_under_each_centre(
    collection: Collection, reader: RasterReader
) -> None:
    mercator = CRS.from_epsg(3857)
    bounds = transform_bounds(UTM, mercator, 650500.0, 5179500.0, 653500.0, 5182500.0)
    window = Window(mercator, bounds, 64, 64)
    acquisitions = group_by_day(collection.items)[1:]
    cube = reader.read_cube(collection, acquisitions, [collection.band("B04")], window)
    raw = _source(collection, "c", "B04")
    cols, rows = np.meshgrid(np.arange(64) + 0.5, np.arange(64) + 0.5)
    xs, ys = window.transform * (cols.ravel(), rows.ravel())
    ux, uy = warp_transform(mercator, UTM, xs, ys)
    src_col = np.floor((np.array(ux) - 650000.0) / 20.0).astype(int)
    src_row = np.floor((5183000.0 - np.array(uy)) / 20.0).astype(int)
    expected = raw[src_row, src_col].astype(np.float32) * np.float32(0.0001)
    got = cube.data[0, 0].data.ravel()
    # nearest neighbour: equal except where a centre falls within float noise of a pixel edge
    assert np.mean(got == expected) > 0.99


def test_low_resolution_window_reads_overviews(
    collection: Collection, reader: RasterReader
) -> None:
    window = Window(UTM, (650000.0, 5179000.0, 654000.0, 5183000.0), 25, 25)
    acquisitions = group_by_day(collection.items)[1:]
    cube = reader.read_cube(collection, acquisitions, [collection.band("B04")], window)
    raw = _source(collection, "c", "B04")
    assert cube.data.shape == (1, 1, 25, 25)
    # nearest decimation picks real source values, never invented ones
    digital_numbers = np.rint(cube.data[0, 0].data.astype(np.float64) * 10000).astype(np.uint16)
    assert np.isin(digital_numbers, raw).all()


def test_damaged_local_file_is_named_without_server_folders(
    collection: Collection, reader: RasterReader, tmp_path: Path
) -> None:
    """A truncated COG: AssetUnreadable naming the band, the item and the file's name, but
    not the folder it lives in."""
    item = next(i for i in collection.items if i.id == "c")
    source = Path(item.assets["B04"].href)
    damaged = tmp_path / "secret-folder" / "B04.tif"
    damaged.parent.mkdir()
    damaged.write_bytes(source.read_bytes()[:2000])
    broken = replace(item, assets={**item.assets,
                                   "B04": replace(item.assets["B04"], href=str(damaged))})
    window = Window(UTM, (650400.0, 5180000.0, 651400.0, 5181000.0), 50, 50)
    with pytest.raises(AssetUnreadable) as caught:
        reader.read_cube(collection, group_by_day([broken]), [collection.band("B04")], window)
    message = caught.value.message
    assert "'B04'" in message and "item 'c'" in message and "B04.tif" in message
    assert "secret-folder" not in message and str(tmp_path) not in message
    assert "see previous" not in message.lower(), message
