"""aggregate_spatial -> save_result on real Landsat 8 scenes and NYC polygons, via rasterstats.

The graph runs as a synchronous download in the openEO dialect; the written CSV,
GeoJSON, GeoPackage and JSON are parsed back and compared with rasterstats on each
single-scene date, and with ``zonal_statistics`` (the same engine) row by row.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from rasterstats import zonal_stats

from ondemand.catalog import Item
from ondemand.engine import Engine
from ondemand.formats import Encoded
from ondemand.processes import OPENEO_REGISTRY
from tests.support.openeo import DATA, LANDSAT, child, flat, load_landsat, ref

DATES = ["2018-01-01", "2018-04-10"]


def graph(reducer: str, fmt: str, geometries: Any = "/users/me/files/nycd.gpkg") -> dict[
        str, Any]:
    return flat(
        load_landsat(["B4"], dates=DATES),
        ("agg", "aggregate_spatial", {"data": ref("load"), "geometries": geometries,
                                      "reducer": child(reducer, data=DATA)}),
        ("save", "save_result", {"data": ref("agg"), "format": fmt}),
    )


def execute(districts: dict[str, Any], doc: dict[str, Any]) -> Encoded:
    engine: Engine = districts["engine"]
    return engine.execute(doc, None, districts["files"], OPENEO_REGISTRY)


def csv_rows(encoded: Encoded) -> list[dict[str, str]]:
    assert encoded.media_type.startswith("text/csv") and encoded.filename.endswith(".csv")
    return list(csv.DictReader(io.StringIO(encoded.content.decode())))


def single_scene_days(districts: dict[str, Any]) -> dict[str, Item]:
    days: dict[str, list[Item]] = defaultdict(list)
    for item in districts["collection"].items:
        days[item.datetime.date().isoformat()].append(item)
    return {day: found[0] for day, found in days.items() if len(found) == 1}


def compare(districts: dict[str, Any], rows: list[dict[str, str]], stat: str,
            extra: dict[str, Any] | None = None) -> int:
    singles = single_scene_days(districts)
    refs: dict[str, list[dict[str, Any]]] = {}
    compared = 0
    for row in rows:
        item = singles.get(row["date"][:10])
        if item is None:
            continue
        if item.id not in refs:
            refs[item.id] = list(zonal_stats(districts["geoms"], item.assets["B4"].href, nodata=0,
                                             stats=[] if extra else [stat], add_stats=extra))
        expected = refs[item.id][int(row["feature"])][stat]
        if expected is None or (isinstance(expected, float) and np.isnan(expected)):
            assert row["B4"] == "", row
        else:
            assert float(row["B4"]) == pytest.approx(float(expected), rel=1e-9, abs=1e-6), row
            compared += 1
    return compared


@pytest.mark.parametrize("reducer", ["mean", "min", "max", "median", "sum", "count"])
def test_csv_matches_rasterstats(districts: dict[str, Any], reducer: str) -> None:
    rows = csv_rows(execute(districts, graph(reducer, "CSV")))
    assert rows and {"source", "feature", "date", "B4"} <= set(rows[0])
    assert compare(districts, rows, reducer) > 100


@pytest.mark.parametrize("reducer", ["sd", "variance"])
def test_sample_spread_matches_numpy(districts: dict[str, Any], reducer: str) -> None:
    rows = csv_rows(execute(districts, graph(reducer, "CSV")))

    def spread(values: np.ma.MaskedArray) -> float | None:
        if values.count() < 2:
            return None
        sd = float(np.ma.std(values, ddof=1))
        return sd * sd if reducer == "variance" else sd

    assert compare(districts, rows, reducer, {reducer: spread}) > 40


def test_same_numbers_as_zonal_statistics(districts: dict[str, Any]) -> None:
    rows = csv_rows(execute(districts, graph("mean", "CSV")))
    draft = {"process_id": "zonal_statistics", "args": {
        "imagery": {"process_id": "filter_daterange", "args": {
            "imagery": {"process_id": "filter_bands", "args": {
                "imagery": {"product_id": LANDSAT}, "bands": ["B4"]}},
            "from": DATES[0], "to": "2018-04-09"}},
        "regions": "/users/me/files/nycd.gpkg", "func": "avg"}}
    engine: Engine = districts["engine"]
    zonal = csv_rows(engine.execute(draft, {"format": "CSV"}, districts["files"]))
    assert [(r["feature"], r["date"], r["B4"]) for r in rows] == [
        (r["feature"], r["date"], r["B4_mean"]) for r in zonal]


def test_geojson_gpkg_and_json_hold_the_same_rows(districts: dict[str, Any],
                                                  tmp_path: Path) -> None:
    rows = csv_rows(execute(districts, graph("mean", "CSV")))
    geojson = json.loads(execute(districts, graph("mean", "GeoJSON")).content)
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == len(rows)
    first = geojson["features"][0]
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = shapely.geometry.shape(first["geometry"]).centroid.coords[0]
    assert -75 < lon < -73 and 40 < lat < 41.5  # New York, in WGS84
    by_row = [(f["properties"]["feature"], f["properties"]["B4"]) for f in geojson["features"]]
    assert by_row == [(int(r["feature"]), None if r["B4"] == "" else float(r["B4"]))
                      for r in rows]
    gpkg = execute(districts, graph("mean", "GPKG"))
    assert gpkg.media_type == "application/geopackage+sqlite3"
    path = tmp_path / gpkg.filename
    path.write_bytes(gpkg.content)
    info = pyogrio.read_info(path)
    assert info["features"] == len(rows) and "B4" in list(info["fields"])
    _, _, _, (values,) = pyogrio.raw.read(path, columns=["B4"])
    assert [None if np.ma.is_masked(v) or np.isnan(v) else float(v) for v in values] == [
        None if r["B4"] == "" else float(r["B4"]) for r in rows]
    doc = json.loads(execute(districts, graph("mean", "JSON")).content)
    assert "B4" in doc["columns"] and len(doc["rows"]) == len(rows)


def test_inline_geojson_gives_one_row_per_feature_and_date(districts: dict[str, Any]) -> None:
    polygons = [shapely.geometry.mapping(g) for g in districts["geoms"][:2]]
    geojson = {"type": "FeatureCollection",
               "crs": {"type": "name", "properties": {"name": "EPSG:32618"}},
               "features": [{"type": "Feature", "properties": {"n": i}, "geometry": p}
                            for i, p in enumerate(polygons)]}
    rows = csv_rows(execute(districts, graph("mean", "CSV", geometries=geojson)))
    days = {r["date"] for r in rows}
    assert len(rows) == 2 * len(days) and {r["feature"] for r in rows} == {"0", "1"}
    nycd = {(r["feature"], r["date"]): r["B4"]
            for r in csv_rows(execute(districts, graph("mean", "CSV")))}
    for row in rows:
        assert row["B4"] == nycd[(row["feature"], row["date"])]
