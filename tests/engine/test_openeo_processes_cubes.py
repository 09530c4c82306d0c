"""merge_cubes, rename_labels, mask, resample_spatial and resample_cube_spatial on real data.

Warps are compared with ``rasterio.warp.reproject`` run directly on the source file
onto the same grid; merges and masks with numpy on the source files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ondemand.errors import ArgumentInvalid
from ondemand.window import Window
from tests.support.openeo import (
    LANDSAT,
    Runner,
    X,
    assert_close,
    band_file,
    child,
    file_window,
    flat,
    item_folders,
    load_landsat,
    read_band,
    read_stack,
    ref,
)

NDVI = "s2-ndvi-slovenia"


@pytest.fixture(scope="module")
def runner(shared_data: Path) -> Iterator[Runner]:
    with Runner([shared_data / NDVI, shared_data / LANDSAT]) as r:
        yield r


def test_merge_of_disjoint_bands_equals_loading_both(
    runner: Runner, landsat_window: Window
) -> None:
    merged = runner.run(flat(load_landsat(["B4"], "a"), load_landsat(["B5"], "b"),
                             ("m", "merge_cubes", {"cube1": ref("a"), "cube2": ref("b")})),
                        window=landsat_window)
    both = runner.run(flat(load_landsat(["B4", "B5"], "a")), window=landsat_window)
    assert merged.bands == ("B4", "B5") and merged.times == both.times
    assert_close(merged.data, both.data)


def test_merge_of_disjoint_dates_interleaves_them(
    runner: Runner, landsat_window: Window
) -> None:
    late = runner.run(flat(load_landsat(["B4"], "a", ["2018-04-21", "2018-04-22"])),
                      window=landsat_window)
    early = runner.run(flat(load_landsat(["B4"], "a")), window=landsat_window)
    merged = runner.run(flat(load_landsat(["B4"], "a", ["2018-04-21", "2018-04-22"]),
                             load_landsat(["B4"], "b"),
                             ("m", "merge_cubes", {"cube1": ref("a"), "cube2": ref("b")})),
                        window=landsat_window)
    assert merged.times == (*early.times, *late.times)
    assert_close(merged.data[0], early.data[0])
    assert_close(merged.data[1], late.data[0])


def test_overlap_needs_and_uses_the_resolver(
    runner: Runner, landsat_window: Window, landsat_scene: Path
) -> None:
    doubled = ("d", "apply", {"data": ref("a"), "process": child("multiply", x=X, y=0.5)})
    with pytest.raises(ArgumentInvalid, match="overlap_resolver"):
        runner.run(flat(load_landsat(["B4"], "a"), doubled,
                        ("m", "merge_cubes", {"cube1": ref("a"), "cube2": ref("d")})),
                   window=landsat_window)
    resolver = {"process_graph": {"r": {"process_id": "min", "result": True, "arguments": {
        "data": [{"from_parameter": "x"}, {"from_parameter": "y"}]}}}}
    merged = runner.run(flat(load_landsat(["B4"], "a"), doubled,
                             ("m", "merge_cubes", {"cube1": ref("a"), "cube2": ref("d"),
                                                   "overlap_resolver": resolver})),
                        window=landsat_window)
    red = read_band(landsat_scene, "B4", nodata=0)
    assert merged.bands == ("B4",)
    assert_close(merged.data[0, 0], np.ma.minimum(red, red * 0.5))


def test_rename_labels_all_or_some(runner: Runner, landsat_window: Window) -> None:
    base = load_landsat(["B4", "B5"], "a")
    renamed = runner.run(flat(base, ("r", "rename_labels", {
        "data": ref("a"), "dimension": "bands", "target": ["red", "nir"]})),
        window=landsat_window)
    assert renamed.bands == ("red", "nir")
    some = runner.run(flat(base, ("r", "rename_labels", {
        "data": ref("a"), "dimension": "bands", "target": ["NIR"], "source": ["B5"]})),
        window=landsat_window)
    assert some.bands == ("B4", "NIR")
    assert_close(some.data, renamed.data)


def test_mask_by_a_cloud_cube(runner: Runner, shared_data: Path) -> None:
    folders = item_folders(shared_data / NDVI)[:10]
    window = file_window(band_file(folders[0], "NDVI"))
    dates = ["2015-07-01", "2015-11-01"]
    load = {"id": NDVI, "spatial_extent": None, "temporal_extent": dates}
    cube = runner.run(flat(
        ("n", "load_collection", {**load, "bands": ["NDVI"]}),
        ("c", "load_collection", {**load, "bands": ["CLM"]}),
        ("cloud", "apply", {"data": ref("c"), "process": child("eq", x=X, y=1)}),
        ("m", "mask", {"data": ref("n"), "mask": ref("cloud")})), window=window)
    kept = [f for f in item_folders(shared_data / NDVI)
            if "20150701" <= f.name[-8:] < "20151101"]
    ndvi = read_stack(kept, "NDVI")
    clouds = read_stack(kept, "CLM", nodata=255)
    expected = np.ma.MaskedArray(ndvi.data, mask=ndvi.mask | clouds.mask | (clouds.data == 1))
    assert (clouds.data == 1).any()
    assert_close(cube.data[:, 0], expected)


def _reprojected(path: Path, crs: CRS, resolution: float | None, method: Resampling
                 ) -> tuple[np.ndarray, Any]:
    with rasterio.open(path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, crs, src.width, src.height, *src.bounds,
            resolution=None if resolution is None else (resolution, resolution))
        out = np.full((height, width), np.nan, np.float32)
        source = src.read(1).astype(np.float32)
        reproject(source, out, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=transform, dst_crs=crs, dst_nodata=np.nan, resampling=method)
    return out, transform


@pytest.mark.parametrize(
    ("projection", "resolution", "method"),
    [(4326, 0.0002, "near"), (None, 30, "average"), (3857, 0, "bilinear")],
)
def test_resample_spatial_equals_gdal_warp_of_the_file(
    runner: Runner, shared_data: Path, projection: int | None, resolution: float, method: str
) -> None:
    folder = item_folders(shared_data / NDVI)[0]
    path = band_file(folder, "NDVI")
    cube = runner.run(flat(
        ("n", "load_collection", {"id": NDVI, "spatial_extent": None, "bands": ["NDVI"],
                                  "temporal_extent": ["2015-07-11", "2015-07-12"]}),
        ("r", "resample_spatial", {"data": ref("n"), "projection": projection,
                                   "resolution": resolution, "method": method})),
        window=file_window(path))
    with rasterio.open(path) as src:
        target = src.crs if projection is None else CRS.from_epsg(projection)
    rs = {"near": Resampling.nearest, "average": Resampling.average,
          "bilinear": Resampling.bilinear}[method]
    expected, transform = _reprojected(path, target, resolution or None, rs)
    assert cube.crs == target and cube.transform.almost_equals(transform)
    assert_close(cube.data[0, 0], np.ma.masked_invalid(expected), rtol=1e-5)


def test_resample_cube_spatial_takes_the_target_grid(
    runner: Runner, landsat_window: Window, landsat_scene: Path
) -> None:
    coarse = ("c", "resample_spatial", {"data": ref("b"), "resolution": 6000,
                                        "method": "average"})
    cube = runner.run(flat(load_landsat(["B4"], "a"), load_landsat(["B5"], "b"), coarse,
                           ("r", "resample_cube_spatial", {"data": ref("a"), "target": ref("c"),
                                                           "method": "max"})),
                      window=landsat_window)
    target = runner.run(flat(load_landsat(["B5"], "b"), coarse), window=landsat_window)
    assert (cube.crs, cube.transform, cube.data.shape[2:]) == (
        target.crs, target.transform, target.data.shape[2:])
    red = read_band(landsat_scene, "B4", nodata=0).filled(np.nan).astype(np.float32)
    with rasterio.open(band_file(landsat_scene, "B4")) as src:
        expected = np.full(target.data.shape[2:], np.nan, np.float32)
        reproject(red, expected, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=np.nan, dst_transform=target.transform, dst_crs=target.crs,
                  dst_nodata=np.nan, resampling=Resampling.max)
    assert_close(cube.data[0, 0], np.ma.masked_invalid(expected))


def test_apply_keeps_labels_and_runs_a_graph_per_value(
    runner: Runner, landsat_window: Window, landsat_scene: Path
) -> None:
    process = {"process_graph": {
        "s": {"process_id": "divide", "arguments": {"x": X, "y": 10000}},
        "c": {"process_id": "clip", "arguments": {"x": {"from_node": "s"}, "min": 0.7,
                                                   "max": 0.9}, "result": True}}}
    cube = runner.run(flat(load_landsat(["B4", "B5"], "a"),
                           ("p", "apply", {"data": ref("a"), "process": process})),
                      window=landsat_window)
    assert cube.bands == ("B4", "B5")
    for k, band in enumerate(("B4", "B5")):
        expected = np.ma.clip(read_band(landsat_scene, band, nodata=0) / 10000, 0.7, 0.9)
        assert_close(cube.data[0, k], expected)


def test_a_download_is_read_at_the_resampled_grid(runner: Runner, shared_data: Path) -> None:
    folder = item_folders(shared_data / NDVI)[0]
    path = band_file(folder, "NDVI")
    cube = runner.run(flat(
        ("n", "load_collection", {"id": NDVI, "spatial_extent": None, "bands": ["NDVI"],
                                  "temporal_extent": ["2015-07-11", "2015-07-12"]}),
        ("r", "resample_spatial", {"data": ref("n"), "projection": 4326,
                                   "resolution": 0.0002, "method": "near"})))
    assert cube.crs == CRS.from_epsg(4326)
    assert abs(cube.transform.a) == pytest.approx(0.0002) and abs(cube.transform.e) == (
        pytest.approx(0.0002))
    with rasterio.open(path) as src:
        expected = np.full(cube.data.shape[2:], np.nan, np.float32)
        reproject(src.read(1), expected, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=np.nan, dst_transform=cube.transform, dst_crs=cube.crs,
                  dst_nodata=np.nan, resampling=Resampling.nearest)
    got = cube.data[0, 0]
    both = ~got.mask & np.isfinite(expected)
    assert both.sum() > 0.9 * np.isfinite(expected).sum()
    np.testing.assert_array_equal(got.data[both], expected[both])


def test_tiles_and_coverages_get_the_result_on_their_window(
    runner: Runner, shared_data: Path
) -> None:
    from ondemand.processes.resample import fit_to_window

    folder = item_folders(shared_data / NDVI)[0]
    path = band_file(folder, "NDVI")
    window = file_window(path)
    cube = runner.run(flat(
        ("n", "load_collection", {"id": NDVI, "spatial_extent": None, "bands": ["NDVI"],
                                  "temporal_extent": ["2015-07-11", "2015-07-12"]}),
        ("r", "resample_spatial", {"data": ref("n"), "projection": 4326,
                                   "resolution": 0.0003})), window=window)
    fitted = fit_to_window(cube, window)
    assert (fitted.crs, fitted.transform, fitted.data.shape[2:]) == (
        window.crs, window.transform, (window.height, window.width))
    source = read_band(folder, "NDVI")
    values = np.unique(fitted.data.compressed())
    assert values.size > 100 and np.isin(values, source.compressed().astype(np.float32)).all()
