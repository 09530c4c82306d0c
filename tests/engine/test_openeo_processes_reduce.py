"""openEO reducers, apply_dimension and aggregate_temporal_period on real Sentinel-2 NDVI.

The 67 dates of ``s2-ndvi-slovenia`` share one grid (NaN = no data); every result is
checked against numpy on the source files read with rasterio.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ondemand.cube import Cube
from ondemand.window import Window
from tests.support.openeo import (
    DATA,
    Runner,
    X,
    assert_close,
    band_file,
    child,
    file_window,
    flat,
    item_date,
    item_folders,
    read_stack,
    ref,
)

ID = "s2-ndvi-slovenia"
LOAD = ("load", "load_collection", {"id": ID, "spatial_extent": None,
                                    "temporal_extent": None, "bands": ["NDVI"]})


@pytest.fixture(scope="module")
def runner(shared_data: Path) -> Iterator[Runner]:
    with Runner([shared_data / ID]) as r:
        yield r


@pytest.fixture(scope="module")
def folders(shared_data: Path) -> list[Path]:
    return item_folders(shared_data / ID)


@pytest.fixture(scope="module")
def window(folders: list[Path]) -> Window:
    return file_window(band_file(folders[0], "NDVI"))


@pytest.fixture(scope="module")
def stack(folders: list[Path]) -> np.ma.MaskedArray:
    return read_stack(folders, "NDVI")


def reduce_t(runner: Runner, window: Window, reducer: dict[str, Any]) -> Cube:
    cube = runner.run(flat(LOAD, ("r", "reduce_dimension", {
        "data": ref("load"), "dimension": "t", "reducer": reducer})), window=window)
    assert isinstance(cube, Cube) and cube.times is None and cube.bands == ("NDVI",)
    return cube


def masked_nan(values: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_invalid(values)


def nan_of(stack: np.ma.MaskedArray) -> np.ndarray:
    return stack.filled(np.nan)


def _first(values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values)
    pos = np.argmax(ok, axis=0)
    return np.where(ok.any(axis=0), np.take_along_axis(values, pos[None], 0)[0], np.nan)


def _last(values: np.ndarray) -> np.ndarray:
    return _first(values[::-1])


NUMPY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "min": lambda v: np.nanmin(v, axis=0),
    "max": lambda v: np.nanmax(v, axis=0),
    "mean": lambda v: np.nanmean(v, axis=0),
    "median": lambda v: np.nanmedian(v, axis=0),
    "sd": lambda v: np.nanstd(v, axis=0, ddof=1),
    "variance": lambda v: np.nanvar(v, axis=0, ddof=1),
    "sum": lambda v: np.where(np.isfinite(v).any(axis=0), np.nansum(v, axis=0), np.nan),
    "first": _first,
    "last": _last,
}


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_reduce_time_matches_numpy(
    runner: Runner, window: Window, stack: np.ma.MaskedArray, name: str
) -> None:
    cube = reduce_t(runner, window, child(name, data=DATA))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = masked_nan(NUMPY[name](nan_of(stack)))
    assert_close(cube.data[0, 0], expected, rtol=2e-5, atol=1e-6)


def test_count_valid_all_and_by_condition(
    runner: Runner, window: Window, stack: np.ma.MaskedArray
) -> None:
    values = nan_of(stack)
    valid = reduce_t(runner, window, child("count", data=DATA))
    np.testing.assert_array_equal(valid.data[0, 0], np.isfinite(values).sum(axis=0))
    everything = reduce_t(runner, window, child("count", data=DATA, condition=True))
    assert (everything.data[0, 0] == len(stack)).all()
    condition = child("gt", x=X, y={"from_parameter": "context"})
    above = reduce_t(runner, window, child("count", data=DATA, condition=condition,
                                           context=0.5))
    with np.errstate(invalid="ignore"):
        expected = (values > 0.5).sum(axis=0)
    np.testing.assert_array_equal(above.data[0, 0], expected)
    assert above.data.dtype == np.int32 and not above.data.mask.any()


def test_reducer_graph_of_several_processes(
    runner: Runner, window: Window, stack: np.ma.MaskedArray
) -> None:
    reducer = {"process_graph": {
        "hi": {"process_id": "max", "arguments": {"data": DATA}},
        "lo": {"process_id": "min", "arguments": {"data": DATA}},
        "range": {"process_id": "subtract", "arguments": {"x": ref("hi"), "y": ref("lo")},
                  "result": True}}}
    cube = reduce_t(runner, window, reducer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = nan_of(stack)
        expected = masked_nan(np.nanmax(values, axis=0) - np.nanmin(values, axis=0))
    assert_close(cube.data[0, 0], expected, rtol=1e-5)


def test_apply_dimension_quantiles_become_bands(
    runner: Runner, window: Window, stack: np.ma.MaskedArray
) -> None:
    probabilities = [0.1, 0.5, 0.9]
    cube = runner.run(flat(LOAD, ("q", "apply_dimension", {
        "data": ref("load"), "dimension": "t", "target_dimension": "bands",
        "process": child("quantiles", data=DATA, probabilities=probabilities)})),
        window=window)
    assert cube.times is None and cube.bands == ("0", "1", "2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanquantile(nan_of(stack), probabilities, axis=0)
    for k in range(3):
        assert_close(cube.data[0, k], masked_nan(expected[k]), rtol=1e-5)


def test_quantiles_with_q_match_the_cut_points(
    runner: Runner, window: Window, stack: np.ma.MaskedArray
) -> None:
    cube = runner.run(flat(LOAD, ("q", "apply_dimension", {
        "data": ref("load"), "dimension": "t", "target_dimension": "bands",
        "process": child("quantiles", data=DATA, q=4)})), window=window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanquantile(nan_of(stack), [0.25, 0.5, 0.75], axis=0)
    for k in range(3):
        assert_close(cube.data[0, k], masked_nan(expected[k]), rtol=1e-5)


def test_apply_dimension_keeps_labels_for_a_same_length_result(
    runner: Runner, window: Window, stack: np.ma.MaskedArray, folders: list[Path]
) -> None:
    scale = child("linear_scale_range", x=X, inputMin=0, inputMax=1, outputMin=0,
                  outputMax=100)
    process = child("array_apply", data=DATA, process=scale)
    cube = runner.run(flat(LOAD, ("a", "apply_dimension", {
        "data": ref("load"), "dimension": "t", "process": process})), window=window)
    assert cube.times is not None and len(cube.times) == len(stack)
    assert [t.date() for t in cube.times] == [item_date(f).date() for f in folders]
    expected = np.ma.clip(stack, 0, 1) * 100
    assert_close(cube.data[:, 0], expected, rtol=1e-5, atol=1e-4)


def test_apply_dimension_with_a_reducer_keeps_one_step(
    runner: Runner, window: Window, stack: np.ma.MaskedArray
) -> None:
    cube = runner.run(flat(LOAD, ("a", "apply_dimension", {
        "data": ref("load"), "dimension": "t", "process": child("median", data=DATA)})),
        window=window)
    assert cube.times is not None and len(cube.times) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = masked_nan(np.nanmedian(nan_of(stack), axis=0))
    assert_close(cube.data[0, 0], expected)


def _period_key(period: str, t: datetime) -> datetime:
    if period == "month":
        return datetime(t.year, t.month, 1, tzinfo=UTC)
    if period == "year":
        return datetime(t.year, 1, 1, tzinfo=UTC)
    if period == "dekad":
        return datetime(t.year, t.month, 1 if t.day <= 10 else 11 if t.day <= 20 else 21,
                        tzinfo=UTC)
    if period == "season":
        start = {12: 12, 1: 12, 2: 12, 3: 3, 4: 3, 5: 3, 6: 6, 7: 6, 8: 6, 9: 9, 10: 9,
                 11: 9}[t.month]
        return datetime(t.year - (1 if t.month < start else 0), start, 1, tzinfo=UTC)
    if period == "week":
        iso = t.isocalendar()
        return datetime.fromisocalendar(iso.year, iso.week, 1).replace(tzinfo=UTC)
    assert period == "day"
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


@pytest.mark.parametrize("period", ["day", "week", "dekad", "month", "season", "year"])
def test_aggregate_temporal_period_matches_numpy_groups(
    runner: Runner, window: Window, stack: np.ma.MaskedArray, folders: list[Path], period: str
) -> None:
    cube = runner.run(flat(LOAD, ("p", "aggregate_temporal_period", {
        "data": ref("load"), "period": period, "reducer": child("mean", data=DATA)})),
        window=window)
    groups: dict[datetime, list[int]] = {}
    for i, folder in enumerate(folders):
        groups.setdefault(_period_key(period, item_date(folder)), []).append(i)
    assert cube.times == tuple(sorted(groups))
    values = nan_of(stack)
    for k, start in enumerate(sorted(groups)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = masked_nan(np.nanmean(values[groups[start]], axis=0))
        assert_close(cube.data[k, 0], expected, rtol=1e-5)
