"""QGIS 3.22 on the 17-date Landsat NDVI series: WMTS per date, WCS 1.0, identify.

QGIS runs offscreen in a subprocess (``tests/support/qgis_client.py``). Placement is
checked against the native pixels of the same date from a WCS 1.0 GetCoverage: where
QGIS draws the layer, the native grid holds data, and where it draws nothing it holds
none (edges aside). Identify in feature mode must give the value of the float32 WMTS
tile QGIS asked about, at the pixel QGIS names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.io import MemoryFile

from tests.support.landsat import Series, published_series
from tests.support.qgis_client import qgis_run, require_qgis

DATES = ("2018-09-03", "2018-10-05")
NATIVE = (391927.987012987, 4346032.792207792, 759401.4935064935, 4740615.0)
"""The series' native grid (3012 m pixels, 122 x 131) in EPSG:32618."""
TO_3857 = Transformer.from_crs(32618, 3857, always_xy=True)
TO_UTM = Transformer.from_crs(3857, 32618, always_xy=True)


@pytest.fixture(scope="module")
def series(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Series]:
    require_qgis()
    with published_series(shared_data, tmp_path_factory.mktemp("qgis-server")) as published:
        yield published


def wmts_uri(series: Series, date: str) -> str:
    """The layer URI QGIS's WMTS provider takes (3.22 steps dates only through the URI)."""
    return (f"contextualWMSLegend=0&crs=EPSG:3857&dpiMode=7&format=image/png"
            f"&layers={series.job_id}&styles=default&tileMatrixSet=WebMercatorQuad"
            f"&tileDimensions=Time%3D{date}&url={series.capabilities}")


def native(series: Series, date: str | None) -> tuple[np.ndarray, Any]:
    """The date's NDVI on the native grid (WCS 1.0 GetCoverage) and its transform."""
    params = {"SERVICE": "WCS", "VERSION": "1.0.0", "REQUEST": "GetCoverage",
              "COVERAGE": series.coverage, "FORMAT": "GeoTIFF", "CRS": "EPSG:32618",
              "BBOX": ",".join(map(str, NATIVE)), "WIDTH": "122", "HEIGHT": "131"}
    if date is not None:
        params["TIME"] = date
    response = httpx.get(series.wcs, params=params, timeout=120)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert dataset.count == 1
        return dataset.read(1), dataset.transform


def extent_3857(pad: float = 0.1) -> tuple[float, float, float, float]:
    xs, ys = TO_3857.transform([NATIVE[0], NATIVE[2], NATIVE[0], NATIVE[2]],
                               [NATIVE[1], NATIVE[1], NATIVE[3], NATIVE[3]])
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    dx, dy = (east - west) * pad, (north - south) * pad
    return west - dx, south - dy, east + dx, north + dy


def render(series: Series, date: str, home: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    box = extent_3857()
    width = 400
    height = round(width * (box[3] - box[1]) / (box[2] - box[0]))
    out = home / f"{date}.png"
    answer = qgis_run({"op": "render", "provider": "wms", "uri": wmts_uri(series, date),
                       "extent": list(box), "crs": "EPSG:3857", "size": [width, height],
                       "out": str(out)}, home)
    assert answer["saved"] and answer["errors"] == [], answer
    with rasterio.open(out) as png:
        return png.read(), box


def test_wmts_per_date_lands_on_the_native_pixels_and_dates_differ(
    series: Series, tmp_path: Path
) -> None:
    pictures = {}
    for date in DATES:
        rgba, box = render(series, date, tmp_path)
        drawn = rgba[3] > 0
        rows, cols = drawn.shape
        x = box[0] + (np.arange(cols) + 0.5) * (box[2] - box[0]) / cols
        y = box[3] - (np.arange(rows) + 0.5) * (box[3] - box[1]) / rows
        ux, uy = TO_UTM.transform(*np.meshgrid(x, y))
        values, transform = native(series, date)
        col, row = ~transform * (ux, uy)
        col, row = np.floor(col).astype(int), np.floor(row).astype(int)
        inside = (row >= 0) & (row < values.shape[0]) & (col >= 0) & (col < values.shape[1])
        valid = np.zeros_like(drawn)
        valid[inside] = np.isfinite(values[row[inside], col[inside]])
        assert drawn.mean() > 0.1
        agreement = (drawn == valid).mean()
        assert agreement > 0.97, f"{date}: QGIS draws where the data is for {agreement:.1%}"
        pictures[date] = rgba
    both = (pictures[DATES[0]][3] > 0) & (pictures[DATES[1]][3] > 0)
    diff = np.abs(pictures[DATES[0]][:3].astype(int) - pictures[DATES[1]][:3]).sum(axis=0)
    assert (diff[both] > 0).mean() > 0.5


@pytest.mark.parametrize(("time", "date"), [
    pytest.param(None, "2018-12-17", id="no-time-is-the-latest"),
    pytest.param("2018-09-03T15:30:00Z", "2018-09-03", id="uri-time"),
])
def test_wcs10_is_one_band_of_one_date(
    series: Series, tmp_path: Path, time: str | None, date: str
) -> None:
    values, _ = native(series, date)
    uri = f"url={series.wcs}&identifier={series.coverage}&crs=EPSG:32618&format=GeoTIFF"
    if time is not None:
        uri += f"&time={time}"  # a timePosition of DescribeCoverage, as QGIS's dialog offers
    answer = qgis_run({"op": "block", "provider": "wcs", "uri": uri, "extent": list(NATIVE),
                       "size": [122, 131]}, tmp_path)
    assert answer["bands"] == 1 and answer["crs"] == "EPSG:32618"
    read = np.array([[np.nan if v is None else v for v in row] for row in answer["rows"]],
                    dtype=np.float32)
    np.testing.assert_array_equal(read, values)  # NaN where the latest date has no data
    assert np.isfinite(read).mean() > 0.2


def test_identify_in_feature_mode_gives_the_tile_value(series: Series, tmp_path: Path) -> None:
    date = DATES[0]
    values, transform = native(series, date)
    rows, cols = np.nonzero(np.isfinite(values))
    middle = len(rows) // 2
    point = TO_3857.transform(*(transform * (cols[middle] + 0.5, rows[middle] + 0.5)))
    box = extent_3857()
    answer = qgis_run({"op": "identify", "provider": "wms", "uri": wmts_uri(series, date),
                       "point": list(point), "extent": list(box), "size": [400, 400]},
                      tmp_path)
    assert answer["valid"] and len(answer["features"]) == 1, answer
    feature = answer["features"][0]
    assert feature["time"].startswith(date)
    tile = httpx.get(
        f"{series.wmts}/tile/1.0.0/{series.job_id}/default/{date}/WebMercatorQuad/"
        f"{feature['tilematrix']}/{feature['tilerow']}/{feature['tilecol']}.tif", timeout=120)
    assert tile.status_code == 200
    with MemoryFile(tile.content) as memfile, memfile.open() as dataset:
        pixel = dataset.read(1)[int(feature["j"]), int(feature["i"])]
    assert np.isfinite(pixel) and float(feature["ndvi"]) == float(pixel)
