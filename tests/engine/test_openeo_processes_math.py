"""openEO math, comparisons and logic: per pixel on a real Landsat 8 scene, and on scalars.

The scene (path 013, row 032, 2018-04-05) is read on its own grid; the STAC nodata 0
masks fill pixels. Expected values come from numpy on the files read with rasterio.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ondemand.cube import Cube
from ondemand.dialects import parse_graph
from ondemand.processes import OPENEO_REGISTRY, REGISTRY, run_graph
from ondemand.processes.validate import validate_graph
from ondemand.window import Window
from tests.support.openeo import (
    DATA,
    Runner,
    X,
    assert_close,
    child,
    flat,
    load_landsat,
    read_band,
    ref,
)
from tests.support.processes import CATALOG, FakeContext, s2_arrays


@pytest.fixture(scope="module")
def red(landsat_scene: Path) -> np.ma.MaskedArray:
    return read_band(landsat_scene, "B4", nodata=0)


@pytest.fixture(scope="module")
def nir(landsat_scene: Path) -> np.ma.MaskedArray:
    return read_band(landsat_scene, "B5", nodata=0)


def apply(runner: Runner, window: Window, process: dict[str, Any]) -> Cube:
    cube = runner.run(flat(load_landsat(["B4"]), ("a", "apply", {"data": ref("load"),
                                                                 "process": process})),
                      window=window)
    assert isinstance(cube, Cube) and cube.bands == ("B4",) and len(cube.times or ()) == 1
    return cube


def scaled(inner: dict[str, Any] | None = None) -> dict[str, Any]:
    """The child node ``x / 10000`` (reflectance-like values)."""
    return {"process_id": "divide", "arguments": {"x": inner or X, "y": 10000}}


UNARY: dict[str, tuple[dict[str, Any], Callable[[np.ndarray], np.ndarray]]] = {
    "sqrt": ({"x": X}, np.sqrt),
    "absolute": ({"x": {"from_node": "neg"}}, lambda v: np.abs(-v)),
    "ln": ({"x": X}, np.log),
    "log": ({"x": X, "base": 10}, np.log10),
    "exp": ({"p": {"from_node": "s"}}, lambda v: np.exp(v / 10000)),
    "power": ({"base": {"from_node": "s"}, "p": 2.5}, lambda v: (v / 10000) ** 2.5),
    "clip": ({"x": X, "min": 7000, "max": 9000}, lambda v: np.clip(v, 7000, 9000)),
    "linear_scale_range": ({"x": X, "inputMin": 6000, "inputMax": 12000, "outputMin": -1,
                            "outputMax": 1},
                           lambda v: (np.clip(v, 6000, 12000) - 6000) / 6000 * 2 - 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_apply_elementwise_math(
    landsat_runner: Runner, landsat_window: Window, red: np.ma.MaskedArray, name: str
) -> None:
    arguments, fn = UNARY[name]
    process = {"process_graph": {
        "s": scaled(),
        "neg": {"process_id": "multiply", "arguments": {"x": X, "y": -1}},
        "r": {"process_id": name, "arguments": arguments, "result": True}}}
    cube = apply(landsat_runner, landsat_window, process)
    with np.errstate(all="ignore"):
        expected = np.ma.masked_invalid(fn(red.filled(np.nan)))
    assert_close(cube.data[0, 0], expected, rtol=1e-5)


BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "normalized_difference": lambda a, b: (a - b) / (a + b),
}


def bands_reducer(pid: str, **extra: Any) -> dict[str, Any]:
    return {"process_graph": {
        "n": {"process_id": "array_element", "arguments": {"data": DATA, "label": "nir"}},
        "r": {"process_id": "array_element", "arguments": {"data": DATA, "label": "red"}},
        "v": {"process_id": pid, "arguments": {"x": ref("n"), "y": ref("r"), **extra},
              "result": True}}}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_math_over_bands_by_common_name(
    landsat_runner: Runner, landsat_window: Window, red: np.ma.MaskedArray,
    nir: np.ma.MaskedArray, name: str
) -> None:
    cube = landsat_runner.run(flat(load_landsat(["red", "nir"]), ("b", "reduce_dimension", {
        "data": ref("load"), "dimension": "bands", "reducer": bands_reducer(name)})),
        window=landsat_window)
    with np.errstate(all="ignore"):
        expected = np.ma.masked_invalid(BINARY[name](nir.filled(np.nan), red.filled(np.nan)))
    assert_close(cube.data[0, 0], expected, rtol=1e-5)


def test_ndvi_without_band_names_uses_red_and_nir(
    landsat_runner: Runner, landsat_window: Window, red: np.ma.MaskedArray, nir: np.ma.MaskedArray
) -> None:
    cube = landsat_runner.run(flat(load_landsat(["B2", "B4", "B5"]),
                                   ("n", "ndvi", {"data": ref("load")})), window=landsat_window)
    assert cube.bands == ("ndvi",)
    with np.errstate(all="ignore"):
        expected = np.ma.masked_invalid((nir - red).filled(np.nan) / (nir + red).filled(np.nan))
    assert_close(cube.data[0, 0], expected, rtol=1e-5)


COMPARE: dict[str, tuple[dict[str, Any], Callable[[np.ndarray], np.ndarray]]] = {
    "gt": ({"x": X, "y": 8000}, lambda v: v > 8000),
    "gte": ({"x": X, "y": 8000}, lambda v: v >= 8000),
    "lt": ({"x": X, "y": 8000}, lambda v: v < 8000),
    "lte": ({"x": X, "y": 8000}, lambda v: v <= 8000),
    "eq": ({"x": X, "y": 8000, "delta": 300}, lambda v: np.abs(v - 8000) <= 300),
    "neq": ({"x": X, "y": 8000, "delta": 300}, lambda v: np.abs(v - 8000) > 300),
    "between": ({"x": X, "min": 7000, "max": 9000, "exclude_max": True},
                lambda v: (v >= 7000) & (v < 9000)),
}


@pytest.mark.parametrize("name", sorted(COMPARE))
def test_comparisons_per_pixel_keep_no_data(
    landsat_runner: Runner, landsat_window: Window, red: np.ma.MaskedArray, name: str
) -> None:
    arguments, fn = COMPARE[name]
    cube = apply(landsat_runner, landsat_window, child(name, **arguments))
    assert cube.data.dtype == np.uint8
    expected = np.ma.MaskedArray(fn(red.filled(0)).astype(np.uint8), mask=red.mask)
    np.testing.assert_array_equal(cube.data.mask[0, 0], expected.mask)
    np.testing.assert_array_equal(cube.data.data[0, 0][~red.mask], expected.data[~red.mask])
    assert 0 < expected.sum() < expected.count()  # both outcomes occur


def _truth(values: np.ma.MaskedArray) -> tuple[np.ndarray, np.ndarray]:
    return ~values.mask & (values.data != 0), ~values.mask & (values.data == 0)


LOGIC: dict[str, Callable[[np.ma.MaskedArray, np.ma.MaskedArray], np.ma.MaskedArray]] = {
    "and": lambda a, b: np.ma.MaskedArray(
        ~(_truth(a)[1] | _truth(b)[1]),
        mask=~(_truth(a)[1] | _truth(b)[1]) & (a.mask | b.mask)),
    "or": lambda a, b: np.ma.MaskedArray(
        _truth(a)[0] | _truth(b)[0], mask=~(_truth(a)[0] | _truth(b)[0]) & (a.mask | b.mask)),
    "xor": lambda a, b: np.ma.MaskedArray((a.data != 0) != (b.data != 0), mask=a.mask | b.mask),
}


@pytest.mark.parametrize("name", sorted(LOGIC))
def test_three_valued_logic_per_pixel(name: str) -> None:
    arrays = s2_arrays(seed=3)
    a = np.ma.MaskedArray(arrays["B02"].data > 0.25, mask=arrays["B02"].mask)
    b = np.ma.MaskedArray(arrays["B08"].data > 0.25, mask=arrays["B08"].mask)
    reducer = {"process_graph": {
        "a": {"process_id": "array_element", "arguments": {"data": DATA, "label": "B02"}},
        "b": {"process_id": "array_element", "arguments": {"data": DATA, "label": "B08"}},
        "ga": {"process_id": "gt", "arguments": {"x": ref("a"), "y": 0.25}},
        "gb": {"process_id": "gt", "arguments": {"x": ref("b"), "y": 0.25}},
        "l": {"process_id": name, "arguments": {"x": ref("ga"), "y": ref("gb")},
              "result": True}}}
    doc = {"process_graph": {
        "load": {"process_id": "load_collection", "arguments": {"id": "S2_L2A_T32TPS_20M"}},
        "r": {"process_id": "reduce_dimension", "result": True, "arguments": {
            "data": ref("load"), "dimension": "bands", "reducer": reducer}}}}
    cube = run_scalar_graph(doc, FakeContext(arrays))
    expected = LOGIC[name](a, b)
    assert expected.mask.any() and (~expected.mask).any()
    np.testing.assert_array_equal(cube.data.mask[:, 0], expected.mask)
    np.testing.assert_array_equal(cube.data.data[:, 0][~expected.mask],
                                  expected.data[~expected.mask])


def test_if_and_not_choose_per_pixel(
    landsat_runner: Runner, landsat_window: Window, red: np.ma.MaskedArray, nir: np.ma.MaskedArray
) -> None:
    reducer = {"process_graph": {
        "n": {"process_id": "array_element", "arguments": {"data": DATA, "label": "B5"}},
        "r": {"process_id": "array_element", "arguments": {"data": DATA, "label": "B4"}},
        "g": {"process_id": "gt", "arguments": {"x": ref("n"), "y": ref("r")}},
        "ng": {"process_id": "not", "arguments": {"x": ref("g")}},
        "v": {"process_id": "if", "arguments": {"value": ref("ng"), "accept": ref("r"),
                                                "reject": ref("n")}, "result": True}}}
    cube = landsat_runner.run(flat(load_landsat(["B4", "B5"]), ("b", "reduce_dimension", {
        "data": ref("load"), "dimension": "bands", "reducer": reducer})), window=landsat_window)
    expected = np.ma.where(nir > red, nir, red)
    assert_close(cube.data[0, 0], np.ma.MaskedArray(expected.data, mask=red.mask | nir.mask))


def run_scalar_graph(doc: dict[str, Any], ctx: FakeContext | None = None) -> Any:
    graph = parse_graph(doc, OPENEO_REGISTRY)
    validate_graph(graph, CATALOG, OPENEO_REGISTRY)
    return run_graph(graph, ctx or FakeContext(s2_arrays()), REGISTRY)


def scalar(pid: str, **arguments: Any) -> Any:
    return run_scalar_graph({"process_graph": {"r": {"process_id": pid, "arguments": arguments,
                                                     "result": True}}})


@pytest.mark.parametrize(
    ("pid", "arguments", "expected"),
    [
        ("and", {"x": False, "y": None}, False),
        ("and", {"x": True, "y": None}, None),
        ("and", {"x": True, "y": True}, True),
        ("or", {"x": True, "y": None}, True),
        ("or", {"x": False, "y": None}, None),
        ("xor", {"x": True, "y": False}, True),
        ("xor", {"x": True, "y": None}, None),
        ("not", {"x": None}, None),
        ("not", {"x": False}, True),
        ("eq", {"x": "Sentinel-2A", "y": "sentinel-2a", "case_sensitive": False}, True),
        ("eq", {"x": "Sentinel-2A", "y": "sentinel-2a"}, False),
        ("eq", {"x": 1, "y": 1.05, "delta": 0.1}, True),
        ("eq", {"x": 1, "y": None}, None),
        ("neq", {"x": 1, "y": 2}, True),
        ("gt", {"x": "2018-01-02T00:00:00Z", "y": "2018-01-01T23:00:00Z"}, True),
        ("lte", {"x": 3, "y": "3"}, False),
        ("between", {"x": 5, "min": 1, "max": 5}, True),
        ("between", {"x": 5, "min": 1, "max": 5, "exclude_max": True}, False),
        ("if", {"value": None, "accept": 1, "reject": 2}, 2),
        ("if", {"value": True, "accept": 1}, 1),
        ("if", {"value": False, "accept": 1}, None),
        ("sqrt", {"x": -1}, None),
        ("log", {"x": 100, "base": 10}, 2.0),
        ("power", {"base": 2, "p": 10}, 1024.0),
        ("clip", {"x": 12, "min": 0, "max": 10}, 10.0),
        ("absolute", {"x": -3.5}, 3.5),
    ],
)
def test_scalar_semantics(pid: str, arguments: dict[str, Any], expected: Any) -> None:
    assert scalar(pid, **arguments) == expected


def test_variance_and_count_of_literal_arrays() -> None:
    values = [1, 2, None, 4]
    assert scalar("variance", data=values) == pytest.approx(np.var([1, 2, 4], ddof=1))
    assert scalar("count", data=values) == 3
    assert scalar("count", data=values, condition=True) == 4
    assert scalar("quantiles", data=values, probabilities=[0.5]) == [2.0]
