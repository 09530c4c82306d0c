"""Process implementations against numpy on the source arrays, via an in-memory context."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from ondemand.cube import Cube
from ondemand.dialects import parse_graph
from ondemand.errors import ArgumentInvalid, BandNotFound, OutOfBounds
from ondemand.processes import REGISTRY, CollectionView, output_options, run_graph
from ondemand.processes.expression import Expression
from ondemand.processes.validate import validate_graph
from tests.support.processes import CATALOG, S2, TIMES, FakeContext, cube_of, s2_arrays


def run(doc: dict[str, Any], ctx: FakeContext) -> Any:
    graph = parse_graph(doc, REGISTRY)
    validate_graph(graph, CATALOG, REGISTRY)
    return run_graph(graph, ctx, REGISTRY)


def flat(*nodes: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A flat graph; the last node is the result."""
    out = {nid: {"process_id": pid, "arguments": args} for nid, pid, args in nodes}
    out[nodes[-1][0]]["result"] = True
    return out


LOAD = ("load", "load_collection", {"id": S2.id})
REF = {"from_node": "load"}


def expected_ndvi(a: dict[str, np.ma.MaskedArray]) -> np.ma.MaskedArray:
    r = a["B04"].filled(np.nan).astype(np.float64)
    n = a["B08"].filled(np.nan).astype(np.float64)
    with np.errstate(all="ignore"):
        nd = (n - r) / (n + r)
    return np.ma.masked_invalid(nd)


def assert_masked_equal(actual: np.ma.MaskedArray, expected: np.ma.MaskedArray) -> None:
    np.testing.assert_array_equal(np.ma.getmaskarray(actual), np.ma.getmaskarray(expected))
    keep = ~np.ma.getmaskarray(expected)
    np.testing.assert_allclose(np.ma.getdata(actual)[keep], np.ma.getdata(expected)[keep],
                               rtol=1e-5, atol=1e-6)
    assert np.isfinite(np.ma.getdata(actual)).all()


# --------------------------------------------------------------------------- ndvi


@pytest.mark.parametrize(
    ("red", "nir"),
    [
        pytest.param("B04", "B08", id="names"),
        pytest.param("red", "nir", id="common-names"),
        pytest.param(4, "8", id="band-ids"),
    ],
)
def test_ndvi_matches_numpy_and_reads_only_red_and_nir(red: Any, nir: Any) -> None:
    arrays = s2_arrays()
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD, ("n", "ndvi", {"data": REF, "red": red, "nir": nir})), ctx)
    assert ctx.loads == [("B04", "B08")]
    assert cube.bands == ("ndvi",) and cube.times == TIMES
    assert cube.data.dtype == np.float32
    assert_masked_equal(cube.data[:, 0], expected_ndvi(arrays))
    assert cube.data.mask[0, 0, 0, 0]  # red + nir == 0 is no-data, not inf/nan


def test_ndvi_target_band_appends_to_all_bands() -> None:
    arrays = s2_arrays()
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD, ("n", "ndvi", {"data": REF, "target_band": "NDVI"})), ctx)
    assert cube.bands == ("B02", "B04", "B08", "B8A", "SCL", "NDVI")
    assert_masked_equal(cube.data[:, 5], expected_ndvi(arrays))
    assert_masked_equal(cube.data[:, 0], arrays["B02"])


# --------------------------------------------------------------------------- time reductions

NUMPY_REDUCERS = {
    "min": lambda x: np.nanmin(x, axis=0),
    "max": lambda x: np.nanmax(x, axis=0),
    "mean": lambda x: np.nanmean(x, axis=0),
    "median": lambda x: np.nanmedian(x, axis=0),
    "sum": lambda x: np.nansum(x, axis=0),
    "sd": lambda x: np.nanstd(x, axis=0, ddof=1),
    "first": lambda x: np.array([[c[~np.isnan(c)][0] if (~np.isnan(c)).any() else np.nan
                                  for c in row] for row in np.moveaxis(x, 0, -1)]),
    "last": lambda x: np.array([[c[~np.isnan(c)][-1] if (~np.isnan(c)).any() else np.nan
                                 for c in row] for row in np.moveaxis(x, 0, -1)]),
}


def numpy_reduce(name: str, values: np.ma.MaskedArray) -> np.ma.MaskedArray:
    raw = values.filled(np.nan).astype(np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = NUMPY_REDUCERS[name](raw)
    counts = (~np.isnan(raw)).sum(axis=0)
    return np.ma.MaskedArray(out, mask=counts < (2 if name == "sd" else 1))


@pytest.mark.parametrize("name", sorted(NUMPY_REDUCERS))
def test_time_reducer_matches_numpy(name: str) -> None:
    arrays = s2_arrays(seed=3)
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD, ("b", "filter_bands", {"data": REF, "bands": ["B04"]}),
                    ("r", f"{name}_time", {"data": {"from_node": "b"}})), ctx)
    assert cube.times is None and cube.bands == ("B04",)
    assert_masked_equal(cube.data[0, 0], numpy_reduce(name, arrays["B04"]))
    assert cube.data.mask[0, 0, 3, 3]  # masked at every date stays masked


def test_count_time_counts_valid_observations() -> None:
    arrays = s2_arrays(seed=4)
    cube = run(flat(LOAD, ("r", "count_time", {"data": REF})), FakeContext(arrays))
    expected = (~np.ma.getmaskarray(arrays["B04"])).sum(axis=0)
    np.testing.assert_array_equal(cube.data[0, cube.bands.index("B04")], expected)
    assert cube.data.dtype == np.int32 and not cube.data.mask.any()


@pytest.mark.parametrize("name", ["min", "mean", "median", "sd", "last"])
def test_reduce_dimension_over_time_equals_time_process(name: str) -> None:
    arrays = s2_arrays(seed=5)
    reducer = {"process_graph": {"r": {"process_id": name,
                                       "arguments": {"data": {"from_parameter": "data"}},
                                       "result": True}}}
    via_reduce = run(flat(LOAD, ("r", "reduce_dimension",
                                 {"data": REF, "reducer": reducer, "dimension": "t"})),
                     FakeContext(arrays))
    via_time = run(flat(LOAD, ("r", f"{name}_time", {"data": REF})), FakeContext(arrays))
    assert via_reduce.times is None and via_reduce.bands == via_time.bands
    assert_masked_equal(via_reduce.data, via_time.data)


# --------------------------------------------------------------------------- reduce over bands

OPENEO_NDVI = {
    "process_graph": {
        "red": {"process_id": "array_element",
                "arguments": {"data": {"from_parameter": "data"}, "label": "red"}},
        "nir": {"process_id": "array_element",
                "arguments": {"data": {"from_parameter": "data"}, "index": 2}},
        "nd": {"process_id": "normalized_difference",
               "arguments": {"x": {"from_node": "nir"}, "y": {"from_node": "red"}},
               "result": True},
    }
}


def test_openeo_ndvi_reduce_over_bands_reads_two_bands_and_matches_numpy() -> None:
    arrays = s2_arrays(seed=6)
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD, ("r", "reduce_dimension",
                           {"data": REF, "reducer": OPENEO_NDVI, "dimension": "bands"})), ctx)
    assert ctx.loads == [("B04", "B08")]
    assert cube.bands == ("normalized_difference",) and cube.times == TIMES
    assert_masked_equal(cube.data[:, 0], expected_ndvi(arrays))


def test_reduce_over_bands_with_whole_array_reads_all_selected_bands() -> None:
    arrays = s2_arrays(seed=7)
    ctx = FakeContext(arrays)
    reducer = {"process_graph": {"m": {"process_id": "mean",
                                       "arguments": {"data": {"from_parameter": "data"}},
                                       "result": True}}}
    cube = run(flat(LOAD, ("b", "filter_bands", {"data": REF, "bands": ["B02", "B04"]}),
                    ("r", "reduce_dimension", {"data": {"from_node": "b"}, "reducer": reducer,
                                               "dimension": "bands"})), ctx)
    assert ctx.loads == [("B02", "B04")]
    stacked = np.ma.stack([arrays["B02"], arrays["B04"]])
    assert_masked_equal(cube.data[:, 0], numpy_reduce("mean", stacked))


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("pid", "fn"),
    [
        pytest.param("add", np.add, id="add"),
        pytest.param("subtract", np.subtract, id="subtract"),
        pytest.param("multiply", np.multiply, id="multiply"),
        pytest.param("divide", np.divide, id="divide"),
    ],
)
def test_arithmetic_on_cubes_masks_nodata_and_division_by_zero(pid: str, fn: Any) -> None:
    arrays = s2_arrays(seed=8)
    arrays["B08"][1, 1, 1] = 0.0
    arrays["B08"].mask[1, 1, 1] = False
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD,
                    ("x", "filter_bands", {"data": REF, "bands": ["B04"]}),
                    ("y", "filter_bands", {"data": REF, "bands": ["B08"]}),
                    ("o", pid, {"x": {"from_node": "x"}, "y": {"from_node": "y"}})), ctx)
    with np.errstate(all="ignore"):
        raw = fn(arrays["B04"].filled(np.nan).astype(np.float64),
                 arrays["B08"].filled(np.nan).astype(np.float64))
    assert_masked_equal(cube.data[:, 0], np.ma.masked_invalid(raw))


def test_linear_scale_range_clips_and_scales() -> None:
    arrays = s2_arrays(seed=9)
    cube = run(flat(LOAD, ("b", "filter_bands", {"data": REF, "bands": ["B08"]}),
                    ("s", "linear_scale_range", {"x": {"from_node": "b"}, "inputMin": 0.1,
                                                 "inputMax": 0.3, "outputMax": 255})),
               FakeContext(arrays))
    b08 = arrays["B08"].astype(np.float64)
    expected = (np.clip(b08, 0.1, 0.3) - 0.1) / 0.2 * 255
    assert_masked_equal(cube.data[:, 0], expected)


# --------------------------------------------------------------------------- band_math


@pytest.mark.parametrize(
    ("expression", "used", "fn"),
    [
        pytest.param("(B08 - B04) / (B08 + B04)", ("B08", "B04"),
                     lambda b: (b["B08"] - b["B04"]) / (b["B08"] + b["B04"]), id="ndvi"),
        pytest.param("where(nir > 0.25, sqrt(nir), -1)", ("B08",),
                     lambda b: np.where(b["B08"] > 0.25, np.sqrt(b["B08"]), -1), id="where"),
        pytest.param("B02 ** 2 + abs(B04 - 0.3)", ("B02", "B04"),
                     lambda b: b["B02"] ** 2 + np.abs(b["B04"] - 0.3), id="pow-abs"),
    ],
)
def test_band_math_matches_numpy(expression: str, used: tuple[str, ...], fn: Any) -> None:
    arrays = s2_arrays(seed=10)
    ctx = FakeContext(arrays)
    cube = run(flat(LOAD, ("m", "band_math", {"data": REF, "expression": expression})), ctx)
    raw = {k: v.data.astype(np.float64) for k, v in arrays.items()}
    nodata = np.logical_or.reduce([arrays[b].mask for b in used])
    with np.errstate(all="ignore"):
        values = fn(raw)
    expected = np.ma.MaskedArray(values, mask=nodata | ~np.isfinite(values))
    assert cube.bands == (expression,)
    assert_masked_equal(cube.data[:, 0], expected)
    assert len(ctx.loads) == 1 and "SCL" not in ctx.loads[0] and "B8A" not in ctx.loads[0]


@pytest.mark.parametrize(
    ("expression", "used", "fn"),
    [
        pytest.param("where((B04 > 0.2) & ~(B08 < 0.3), 1, 0)", ("B04", "B08"),
                     lambda b: np.where((b["B04"] > 0.2) & ~(b["B08"] < 0.3), 1.0, 0.0),
                     id="conditions-combined"),
        pytest.param("where(B04 > 0.2, B04, 1) ** -16", ("B04",),
                     lambda b: np.where(b["B04"] > 0.2, b["B04"], 1.0) ** -16.0,
                     id="integer-branch-negative-power"),
        pytest.param("B04 + 99999999999999999999999", ("B04",),
                     lambda b: b["B04"] + 1e23, id="literal-beyond-int64"),
    ],
)
def test_band_math_conditions_and_literals_match_numpy(
    expression: str, used: tuple[str, ...], fn: Any
) -> None:
    arrays = s2_arrays(seed=13)
    cube = run(flat(LOAD, ("m", "band_math", {"data": REF, "expression": expression})),
               FakeContext(arrays))
    raw = {k: v.data.astype(np.float64) for k, v in arrays.items()}
    nodata = np.logical_or.reduce([arrays[b].mask for b in used])
    with np.errstate(all="ignore"):
        values = fn(raw)
    expected = np.ma.MaskedArray(values, mask=nodata | ~np.isfinite(values))
    np.testing.assert_array_equal(np.ma.getmaskarray(cube.data[:, 0]), expected.mask)
    np.testing.assert_allclose(cube.data[:, 0].compressed(), expected.compressed(), rtol=1e-6)


def test_band_math_numexpr_errors_name_the_expression() -> None:
    """Whatever numexpr still refuses is a 400-class error naming the expression."""
    values = np.arange(4, dtype=np.float32)
    with pytest.raises(ArgumentInvalid, match=r"cannot evaluate 'B04 \| B08'"):
        Expression("B04 | B08", ("B04", "B08")).evaluate({"B04": values, "B08": values})


def test_band_math_several_expressions_give_several_bands() -> None:
    arrays = s2_arrays(seed=11)
    cube = run(flat(LOAD, ("m", "band_math", {"data": REF, "expression": "B02 * 2; B04 + 1"})),
               FakeContext(arrays))
    assert cube.bands == ("B02 * 2", "B04 + 1")
    assert_masked_equal(cube.data[:, 0], arrays["B02"] * 2)
    assert_masked_equal(cube.data[:, 1], arrays["B04"] + 1)


# --------------------------------------------------------------------------- mask


def test_mask_by_scl_classes_reads_scl_with_the_needed_bands() -> None:
    arrays = s2_arrays(seed=12)
    ctx = FakeContext(arrays)
    classes = [3, 8, 9, 10]
    cube = run(flat(LOAD, ("m", "mask", {"data": REF, "scl_classes": classes}),
                    ("n", "ndvi", {"data": {"from_node": "m"}, "red": "B04", "nir": "B08"})), ctx)
    assert ctx.loads == [("B04", "B08", "SCL")]
    hit = np.isin(arrays["SCL"].data, classes) | arrays["SCL"].mask
    expected = expected_ndvi(arrays)
    expected = np.ma.MaskedArray(expected.data, mask=expected.mask | hit)
    assert_masked_equal(cube.data[:, 0], expected)


def test_mask_by_cube_with_replacement() -> None:
    arrays = s2_arrays(seed=13)
    cloud = np.ma.MaskedArray((arrays["B02"].data > 0.4).astype(np.float32), mask=False)
    ctx = FakeContext({**arrays, "CLM": cloud})
    data = cube_of(arrays, ["B04"])
    mask_cube = cube_of({"CLM": cloud}, ["CLM"])
    out = REGISTRY.get("mask").implementation(
        {"data": data, "mask": mask_cube, "scl_classes": None, "scl_band": "SCL",
         "replacement": -1.0}, ctx)
    hit = cloud.data != 0
    expected = np.where(hit, -1.0, arrays["B04"].data)
    np.testing.assert_allclose(out.data.data[:, 0], expected)
    np.testing.assert_array_equal(out.data.mask[:, 0], arrays["B04"].mask & ~hit)


# --------------------------------------------------------------------------- lazy views


def test_filters_narrow_the_view_without_reading() -> None:
    ctx = FakeContext(s2_arrays())
    view = run(flat(
        LOAD,
        ("a", "filter_bbox", {"data": REF, "extent": {"west": 652000, "east": 652030,
                                                      "south": 5180970, "north": 5181000,
                                                      "crs": "EPSG:32632"}}),
        ("b", "filter_bbox", {"data": {"from_node": "a"},
                              "extent": {"west": 652010, "east": 652040, "south": 5180960,
                                         "north": 5180990, "crs": 32632}}),
        ("t", "filter_temporal", {"data": {"from_node": "b"}, "extent": ["2017-01-10", None]}),
        ("t2", "filter_temporal", {"data": {"from_node": "t"},
                                   "extent": ["2016-01-01", "2017-01-31"]}),
        ("c", "filter_bands", {"data": {"from_node": "t2"}, "bands": ["nir", 4]}),
    ), ctx)
    assert isinstance(view, CollectionView) and ctx.loads == []
    assert view.bbox is not None
    assert view.bbox[0] == (652010.0, 5180970.0, 652030.0, 5180990.0)
    assert view.start == datetime(2017, 1, 10, tzinfo=UTC)
    assert view.end == datetime(2017, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert view.bands == ("B08", "B04")


def test_date_only_end_includes_that_whole_day() -> None:
    arrays = s2_arrays(seed=14)
    cube = run(flat(LOAD, ("t", "filter_temporal", {"data": REF,
                                                    "extent": ["2017-01-15", "2017-01-31"]}),
                    ("r", "max_time", {"data": {"from_node": "t"}})), FakeContext(arrays))
    assert_masked_equal(cube.data[0, 1], numpy_reduce("max", arrays["B04"][1:]))


def test_disjoint_bboxes_are_out_of_bounds() -> None:
    with pytest.raises(OutOfBounds):
        run(flat(LOAD,
                 ("a", "filter_bbox", {"data": REF, "extent": {"west": 0, "east": 1, "south": 0,
                                                               "north": 1, "crs": 32632}}),
                 ("b", "filter_bbox", {"data": {"from_node": "a"},
                                       "extent": {"west": 5, "east": 6, "south": 5, "north": 6,
                                                  "crs": 32632}})), FakeContext(s2_arrays()))


def test_filter_bbox_on_a_computed_cube_masks_outside_pixels() -> None:
    arrays = s2_arrays(seed=15)
    cube = run(flat(LOAD, ("n", "ndvi", {"data": REF}),
                    ("b", "filter_bbox", {"data": {"from_node": "n"},
                                          "extent": {"west": 652000, "east": 652020,
                                                     "south": 5180980, "north": 5181000,
                                                     "crs": "EPSG:32632"}})),
               FakeContext(arrays))
    outside = np.ones((4, 4), bool)
    outside[:2, :2] = False
    expected = expected_ndvi(arrays)
    assert_masked_equal(cube.data[:, 0], np.ma.MaskedArray(expected.data,
                                                           mask=expected.mask | outside))


def test_filter_bands_on_view_rejects_filtered_out_band() -> None:
    with pytest.raises(BandNotFound, match="'n'.*'red'"):
        run(flat(LOAD, ("b", "filter_bands", {"data": REF, "bands": ["B08"]}),
                 ("n", "ndvi", {"data": {"from_node": "b"}})), FakeContext(s2_arrays()))


# --------------------------------------------------------------------------- save_result


def test_save_result_passes_the_cube_and_records_options() -> None:
    arrays = s2_arrays(seed=16)
    doc = flat(LOAD, ("n", "ndvi", {"data": REF}),
               ("s", "save_result", {"data": {"from_node": "n"}, "format": "GTiff",
                                     "options": {"compress": "deflate", "tiles": [256, 256]}}))
    cube = run(doc, FakeContext(arrays))
    assert isinstance(cube, Cube)
    assert_masked_equal(cube.data[:, 0], expected_ndvi(arrays))
    assert output_options(parse_graph(doc, REGISTRY)) == ("GTiff", {"compress": "deflate",
                                                          "tiles": [256, 256]})


def test_reducer_on_literal_list_ignores_nulls() -> None:
    mean = REGISTRY.get("mean").implementation
    assert mean({"data": (1, None, 2.5), "ignore_nodata": True}, None) == pytest.approx(1.75)
    assert mean({"data": (1, None), "ignore_nodata": False}, None) is None


def test_as_cube_rejects_non_cubes() -> None:
    with pytest.raises(ArgumentInvalid, match="raster cube"):
        REGISTRY.get("min_time").implementation({"data": 5}, FakeContext(s2_arrays()))
