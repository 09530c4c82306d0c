"""load_collection and the filters with openEO 1.x meanings, on real Landsat 8 scenes.

Exclusive end dates, metadata (``properties``) filters, GeoJSON extents,
filter_spatial and mask_polygon, checked against the STAC items and against
rasterio's rasterization on the source grid; and the errors bad graphs get.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasterio.features import geometry_mask

from ondemand.errors import (
    ArgumentInvalid,
    ArgumentUnsupported,
    NoData,
    OnDemandError,
    OutputFormatUnsupported,
    ProcessUnsupported,
)
from ondemand.window import Window
from tests.support.openeo import (
    DATA,
    LANDSAT,
    Runner,
    assert_close,
    child,
    flat,
    read_band,
    ref,
)

VALUE = {"from_parameter": "value"}
TRIANGLE = [[540000.0, 4570000.0], [600000.0, 4560000.0], [560000.0, 4520000.0],
            [540000.0, 4570000.0]]
"""A triangle inside the scene, in its CRS (EPSG:32618)."""
GEOJSON = {"type": "FeatureCollection",
           "crs": {"type": "name", "properties": {"name": "EPSG:32618"}},
           "features": [{"type": "Feature", "properties": {"name": "t"},
                         "geometry": {"type": "Polygon", "coordinates": [TRIANGLE]}}]}


def items(shared_data: Path) -> list[dict[str, Any]]:
    folder = shared_data / LANDSAT
    return [json.loads((p / f"{p.name}.json").read_text())
            for p in sorted(folder.iterdir()) if p.is_dir()]


def load(**arguments: Any) -> tuple[str, str, dict[str, Any]]:
    base: dict[str, Any] = {"id": LANDSAT, "spatial_extent": None, "temporal_extent": None,
                            "bands": ["B4"]}
    return ("load", "load_collection", {**base, **arguments})


def dates(cube: Any) -> list[str]:
    return [t.date().isoformat() for t in cube.times]


def test_temporal_extent_end_is_excluded_in_openeo_and_included_in_the_draft(
    landsat_runner: Runner, landsat_window: Window
) -> None:
    doc = flat(load(temporal_extent=["2018-01-31", "2018-04-21"]))
    openeo = dates(landsat_runner.run(doc, window=landsat_window))
    draft = dates(landsat_runner.run(doc, draft=True, window=landsat_window))
    assert "2018-04-21" in draft and draft[0] == "2018-01-31"
    assert openeo == [d for d in draft if d != "2018-04-21"]
    day = flat(load(temporal_extent=["2018-04-21", "2018-04-22"]))
    assert dates(landsat_runner.run(day, window=landsat_window)) == ["2018-04-21"]


def test_filter_temporal_excludes_its_end_and_takes_dimension_t(
    landsat_runner: Runner, landsat_window: Window
) -> None:
    doc = flat(load(), ("f", "filter_temporal", {
        "data": ref("load"), "extent": ["2018-04-05", "2018-04-21T15:30:00Z"],
        "dimension": "t"}))
    assert dates(landsat_runner.run(doc, window=landsat_window)) == ["2018-04-05"]
    bad = flat(load(), ("f", "filter_temporal", {
        "data": ref("load"), "extent": ["2018-04-05", "2018-05-01"], "dimension": "time"}))
    with pytest.raises(ArgumentInvalid, match="'dimension'"):
        landsat_runner.compile(bad)


def test_year_only_interval(landsat_runner: Runner, landsat_window: Window) -> None:
    whole = dates(landsat_runner.run(flat(load()), window=landsat_window))
    year = flat(load(temporal_extent=["2018", "2019"]))
    assert dates(landsat_runner.run(year, window=landsat_window)) == whole
    assert landsat_runner.run(flat(load(temporal_extent=["2018", None])),
                              window=landsat_window).times


def test_properties_filter_keeps_matching_items(
    landsat_runner: Runner, shared_data: Path
) -> None:
    properties = {"landsat:wrs_path": child("eq", x=VALUE, y="014"),
                  "landsat:wrs_row": child("eq", x=VALUE, y="032")}
    cube = landsat_runner.run(flat(load(properties=properties)))
    expected = sorted({doc["properties"]["datetime"][:10] for doc in items(shared_data)
                       if doc["properties"]["landsat:wrs_path"] == "014"
                       and doc["properties"]["landsat:wrs_row"] == "032"})
    assert dates(cube) == expected and len(expected) == 6


def test_properties_filter_on_dates_and_nothing_left(landsat_runner: Runner) -> None:
    after = {"datetime": child("gte", x=VALUE, y="2018-12-01T00:00:00+00:00")}
    assert dates(landsat_runner.run(flat(load(properties=after)))) == [
        "2018-12-01", "2018-12-08", "2018-12-17"]
    none = {"platform": child("eq", x=VALUE, y="sentinel-2a")}
    with pytest.raises(NoData, match="properties"):
        landsat_runner.run(flat(load(properties=none)))


def _triangle_outside(window: Window) -> np.ndarray:
    polygon = {"type": "Polygon", "coordinates": [TRIANGLE]}
    return geometry_mask([polygon], out_shape=(window.height, window.width),
                         transform=window.transform)


@pytest.mark.parametrize("how", ["spatial_extent", "filter_spatial", "mask_polygon"])
def test_polygons_keep_pixels_whose_centre_is_inside(
    landsat_runner: Runner, landsat_window: Window, landsat_scene: Path, how: str
) -> None:
    if how == "spatial_extent":
        doc = flat(load(spatial_extent=GEOJSON, temporal_extent=["2018-04-05", "2018-04-06"]))
    else:
        argument = "geometries" if how == "filter_spatial" else "mask"
        doc = flat(load(temporal_extent=["2018-04-05", "2018-04-06"]),
                   ("p", how, {"data": ref("load"), argument: GEOJSON}))
    cube = landsat_runner.run(doc, window=landsat_window)
    red = read_band(landsat_scene, "B4", nodata=0)
    outside = _triangle_outside(landsat_window)
    assert outside.any() and (~outside).any()
    expected = np.ma.MaskedArray(red.data, mask=red.mask | outside)
    assert_close(cube.data[0, 0], expected)


def test_mask_polygon_inside_with_replacement(
    landsat_runner: Runner, landsat_window: Window, landsat_scene: Path
) -> None:
    doc = flat(load(temporal_extent=["2018-04-05", "2018-04-06"]),
               ("p", "mask_polygon", {"data": ref("load"), "mask": GEOJSON, "inside": True,
                                      "replacement": -1}))
    cube = landsat_runner.run(doc, window=landsat_window)
    red = read_band(landsat_scene, "B4", nodata=0)
    inside = ~_triangle_outside(landsat_window)
    expected = np.ma.MaskedArray(np.where(inside & ~red.mask, -1.0, red.data), mask=red.mask)
    assert_close(cube.data[0, 0], expected)


BAD: list[tuple[str, dict[str, Any], type[OnDemandError], str]] = [
    ("reduce_dimension", {"data": ref("load"), "dimension": "x",
                          "reducer": child("mean", data=DATA)}, ArgumentInvalid, "dimension"),
    ("aggregate_temporal_period", {"data": ref("load"), "period": "fortnight",
                                   "reducer": child("mean", data=DATA)}, ArgumentInvalid,
     "period"),
    ("resample_spatial", {"data": ref("load"), "resolution": 100, "method": "nearest"},
     ArgumentInvalid, "method"),
    ("resample_spatial", {"data": ref("load"), "resolution": -5}, ArgumentInvalid,
     "resolution"),
    ("apply_dimension", {"data": ref("load"), "dimension": "t", "target_dimension": "x",
                         "process": child("mean", data=DATA)}, ArgumentInvalid,
     "target_dimension"),
    ("rename_labels", {"data": ref("load"), "dimension": "t", "target": ["a"]},
     ArgumentInvalid, "dimension"),
    ("rename_labels", {"data": ref("load"), "dimension": "bands", "target": ["a", "b"]},
     ArgumentInvalid, "target"),
    ("aggregate_spatial", {"data": ref("load"), "geometries": GEOJSON,
                           "reducer": child("first", data=DATA)}, ArgumentInvalid, "reducer"),
    ("mask_polygon", {"data": ref("load"), "mask": [1, 2]}, ArgumentInvalid, "mask"),
    ("merge_cubes", {"cube1": ref("load"), "cube2": ref("load"), "overlap_resolver": 5},
     ArgumentInvalid, "overlap_resolver"),
    ("filter_bands", {"data": ref("load"), "bands": ["B9"]}, OnDemandError, "bands"),
    ("apply", {"data": ref("load"), "process": child("clip", x={"from_parameter": "x"},
                                                     min=5, max=1)}, ArgumentInvalid, "max"),
    ("apply", {"data": ref("load"), "process": child("quantiles", data=[1, 2], q=4,
                                                     probabilities=[0.5])},
     ArgumentInvalid, "probabilities"),
    ("save_result", {"data": ref("load"), "format": "Zarr"}, OutputFormatUnsupported,
     "GTiff"),
    ("ndvi", {"data": ref("load"), "nir": "B5", "colour": "green"}, ArgumentUnsupported,
     "colour"),
]


@pytest.mark.parametrize(("pid", "arguments", "error", "named"), BAD,
                         ids=[f"{b[0]}-{b[3]}" for b in BAD])
def test_bad_arguments_name_the_parameter(
    landsat_runner: Runner, pid: str, arguments: dict[str, Any], error: type[OnDemandError],
    named: str
) -> None:
    with pytest.raises(error) as caught:
        landsat_runner.compile(flat(load(), ("n", pid, arguments)))
    assert f"'{named}'" in caught.value.message or named in caught.value.message


def test_unknown_process_is_process_unsupported(landsat_runner: Runner) -> None:
    with pytest.raises(ProcessUnsupported, match="'ndwi'"):
        landsat_runner.compile(flat(load(), ("n", "ndwi", {"data": ref("load")})))
    with pytest.raises(ProcessUnsupported, match="'median_of_everything'"):
        landsat_runner.compile(flat(load(), ("r", "reduce_dimension", {
            "data": ref("load"), "dimension": "t",
            "reducer": child("median_of_everything", data=DATA)})))
