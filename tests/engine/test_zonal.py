"""Zonal statistics on the real Landsat scenes and NYC polygons, against rasterstats.

rasterstats (test-only) reads each source GeoTIFF with the nodata 0 that only the
STAC items declare. Single-scene dates must match it for every region within 1e-6;
the two dates with two scenes must match the documented rule (a pixel of the second
scene counts unless its centre falls on a valid pixel of the first), computed here
from rasterstats' own mini-rasters and the first scene read whole with rasterio.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterstats import zonal_stats

from ondemand.catalog import Item
from ondemand.engine import CACHED, Engine
from ondemand.table import Table
from tests.support.openeo import LANDSAT

RS_STATS = {"mean": "mean", "min": "min", "max": "max", "median": "median", "sum": "sum",
            "count": "count", "std": "std", "q25": "percentile_25", "q75": "percentile_75"}


def run(districts: dict[str, Any], func: str, *, dates: tuple[str, str] | None = None,
        all_touched: bool = False) -> Table:
    imagery: dict[str, Any] = {"process_id": "filter_bands", "args": {
        "imagery": {"product_id": LANDSAT}, "bands": ["B4"]}}
    if dates:
        imagery = {"process_id": "filter_daterange",
                   "args": {"imagery": imagery, "from": dates[0], "to": dates[1]}}
    graph = {"process_id": "zonal_statistics", "args": {
        "imagery": imagery, "regions": "/users/me/files/nycd.gpkg", "func": func,
        "all_touched": all_touched}}
    engine: Engine = districts["engine"]
    return engine.evaluate_table(
        engine.compile(graph), policy=CACHED, user_files=districts["files"]
    )


def items_by_day(districts: dict[str, Any]) -> dict[date, list[Item]]:
    days: dict[date, list[Item]] = defaultdict(list)
    for item in sorted(districts["collection"].items, key=lambda i: (i.datetime, i.id)):
        days[item.datetime.date()].append(item)
    return days


def reference(districts: dict[str, Any], item: Item, stats: list[str],
              all_touched: bool = False) -> list[dict[str, Any]]:
    return list(zonal_stats(districts["geoms"], item.assets["B4"].href, nodata=0, stats=stats,
                            all_touched=all_touched))


def assert_single_scene_dates_match(districts: dict[str, Any], table: Table, func: str,
                                    all_touched: bool = False) -> int:
    days = items_by_day(districts)
    refs: dict[str, list[dict[str, Any]]] = {}
    compared = 0
    for row in table.records():
        items = days[row["date"].date()]
        if len(items) != 1:
            continue
        item = items[0]
        if item.id not in refs:
            refs[item.id] = reference(districts, item, [RS_STATS[func]], all_touched)
        expected = refs[item.id][row["feature"]][RS_STATS[func]]
        got = row[f"B4_{func}"]
        if expected is None:
            assert got is None, (item.id, row["feature"])
        else:
            assert got == pytest.approx(expected, abs=1e-6), (item.id, row["feature"])
            compared += 1
    return compared


def test_every_region_and_single_scene_date_matches_rasterstats(districts: dict[str, Any]) -> None:
    table = run(districts, "avg")
    days = items_by_day(districts)
    assert table.row_count == 71 * len(days)
    assert {r["date"].date() for r in table.records()} == set(days)
    compared = assert_single_scene_dates_match(districts, table, "mean")
    assert compared > 600
    nulls = sum(v is None for v in table.columns["B4_mean"])
    assert 0 < nulls < table.row_count  # small districts hold no 3 km pixel centre


@pytest.mark.parametrize("func", ["min", "max", "median", "sum", "count", "std", "q25", "q75"])
def test_other_statistics_match_rasterstats(districts: dict[str, Any], func: str) -> None:
    table = run(districts, func, dates=("2018-01-01", "2018-04-10"))
    assert assert_single_scene_dates_match(districts, table, func) > 100


def test_all_touched_matches_rasterstats(districts: dict[str, Any]) -> None:
    table = run(districts, "mean", dates=("2018-01-01", "2018-03-31"), all_touched=True)
    centres = run(districts, "mean", dates=("2018-01-01", "2018-03-31"))
    nulls = sum(v is None for v in table.columns["B4_mean"])
    assert nulls < sum(v is None for v in centres.columns["B4_mean"])
    assert assert_single_scene_dates_match(districts, table, "mean", all_touched=True) > 150


@pytest.mark.parametrize("day", [date(2018, 4, 28), date(2018, 9, 3)], ids=str)
def test_two_scene_dates_take_each_point_from_the_first_valid_scene(
    districts: dict[str, Any], day: date
) -> None:
    first, second = items_by_day(districts)[day]
    table = run(districts, "mean", dates=(day.isoformat(), day.isoformat()))
    with rasterio.open(first.assets["B4"].href) as src:
        first_valid = src.read(1) != 0
        first_inverse = ~src.transform
    pooled: list[list[float]] = [[] for _ in districts["geoms"]]
    for item in (first, second):
        minis = zonal_stats(districts["geoms"], item.assets["B4"].href, nodata=0,
                            stats=["count"], raster_out=True)
        for r, mini in enumerate(minis):
            array = mini["mini_raster_array"]
            if array is None:
                continue
            rows, cols = np.nonzero(~np.ma.getmaskarray(array))
            values = np.ma.getdata(array)[rows, cols].astype(float)
            if item is second:
                xs, ys = mini["mini_raster_affine"] * (cols + 0.5, rows + 0.5)
                c, w = first_inverse * (np.asarray(xs), np.asarray(ys))
                c, w = np.floor(c).astype(int), np.floor(w).astype(int)
                inside = (c >= 0) & (w >= 0) & (w < first_valid.shape[0]) & (
                    c < first_valid.shape[1])
                covered = np.zeros(len(values), dtype=bool)
                covered[inside] = first_valid[w[inside], c[inside]]
                values = values[~covered]
            pooled[r].extend(values.tolist())
    got = table.columns["B4_mean"]
    from_second = 0
    for r, values in enumerate(pooled):
        if values:
            assert got[r] == pytest.approx(np.mean(values), abs=1e-6), r
        else:
            assert got[r] is None
        from_second += bool(values)
    assert from_second == 71 - sum(v is None for v in got)
