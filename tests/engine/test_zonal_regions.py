"""Reading regions (GeoJSON, GeoPackage, zipped Shapefile, folders) and synthetic cases."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from affine import Affine
from pyproj import Transformer
from rasterstats import zonal_stats

from ondemand.catalog import Catalog
from ondemand.engine import CACHED, Engine
from ondemand.errors import FileContentInvalid, ResourceNotFound
from ondemand.processes.zonal.regions import load_regions
from ondemand.read import RasterReader
from ondemand.settings import Settings
from ondemand.userfiles import UserFiles
from tests.support.cogs import make_collection

UTM = "EPSG:32633"
ORIGIN = Affine(10, 0, 500000, 0, -10, 5000000)
SQUARE = shapely.Polygon([(500105, 4999895), (500255, 4999895), (500255, 4999745),
                          (500105, 4999745)])
TRIANGLE = shapely.Polygon([(500400, 4999600), (500700, 4999600), (500400, 4999300)])


@pytest.fixture
def files(tmp_path: Path) -> UserFiles:
    f = UserFiles.of(tmp_path, "u", max_file_bytes=10**7, quota_bytes=10**8)
    f.root.mkdir(parents=True)
    return f


def write_gpkg(path: Path, geoms: list[Any], crs: str, names: list[str]) -> None:
    pyogrio.raw.write(path, np.asarray(shapely.to_wkb(geoms), dtype=object),
                      [np.asarray(names, dtype=object)], ["name"], crs=crs, driver="GPKG",
                      geometry_type="Polygon")


def write_zipped_shapefile(path: Path, geoms: list[Any], crs: str) -> None:
    shp = path.parent / "shp"
    shp.mkdir()
    pyogrio.raw.write(shp / "parcels.shp", np.asarray(shapely.to_wkb(geoms), dtype=object),
                      [np.arange(len(geoms))], ["id"], crs=crs, driver="ESRI Shapefile",
                      geometry_type="Polygon")
    with zipfile.ZipFile(path, "w") as archive:
        for part in shp.iterdir():
            archive.write(part, part.name)


def to_wgs84(geometry: Any) -> Any:
    t = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(t.transform(xy[:, 0],
                                                                              xy[:, 1])))


def geojson(geoms: list[Any], crs: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"g{i}"},
         "geometry": json.loads(shapely.to_geojson(g))} for i, g in enumerate(geoms)]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def test_gpkg_and_zipped_shapefile(files: UserFiles) -> None:
    write_gpkg(files.root / "a.gpkg", [SQUARE, TRIANGLE], UTM, ["sq", "tri"])
    write_zipped_shapefile(files.root / "b.zip", [TRIANGLE], UTM)
    a = load_regions("/users/me/files/a.gpkg", files)
    assert a.crs.to_epsg() == 32633 and a.attributes["name"] == ["sq", "tri"]
    assert a.geometries[1].equals(TRIANGLE)
    b = load_regions("b.zip", files)
    assert b.geometries[0].equals(TRIANGLE) and b.sources == ("b.zip",)


def test_folder_reads_every_polygon_file_and_skips_others(files: UserFiles) -> None:
    (files.root / "1.geojson").write_text(json.dumps(geojson([to_wgs84(SQUARE)])))
    (files.root / "2.json").write_text(json.dumps(geojson([TRIANGLE], "EPSG:32633")))
    (files.root / "notes.txt").write_text("hello")
    (files.root / "points.json").write_text(json.dumps({"type": "Point",
                                                         "coordinates": [1, 2]}))
    regions = load_regions("/users/me/files/", files)
    assert regions.sources == ("1.geojson", "2.json")
    assert regions.crs.to_epsg() == 4326
    back = regions.to_crs(load_regions("2.json", files).crs).geometries
    assert shapely.equals_exact(back[0], SQUARE, tolerance=1e-3)
    assert shapely.equals_exact(back[1], TRIANGLE, tolerance=1e-6)


BAD = {
    "points": ({"type": "Point", "coordinates": [1, 2]}, FileContentInvalid),
    "not-json": ("{nope", FileContentInvalid),
    "missing": (None, ResourceNotFound),
}


@pytest.mark.parametrize(("content", "error"), BAD.values(), ids=BAD.keys())
def test_bad_region_files(files: UserFiles, content: Any, error: type[Exception]) -> None:
    if content is not None:
        text = content if isinstance(content, str) else json.dumps(content)
        (files.root / "x.geojson").write_text(text)
    with pytest.raises(error):
        load_regions("/users/me/files/x.geojson", files)


def test_fake_geopackage_is_refused(files: UserFiles) -> None:
    (files.root / "x.gpkg").write_text("<OGRVRTDataSource/>")
    with pytest.raises(FileContentInvalid):
        load_regions("x.gpkg", files)


# --------------------------------------------------------------------------- synthetic data


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two dates of a 200 x 200 grid: B1 with nodata 0 holes, B2, and a class band SCL."""
    root = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(3)
    items = []
    for day in (1, 2):
        b1 = rng.integers(1, 1000, (200, 200)).astype(np.uint16)
        b1[10:14, 10:20] = 0
        scl = np.where(rng.random((200, 200)) < 0.2, 9, 4).astype(np.uint8)
        b2 = rng.integers(1, 1000, (200, 200)).astype(np.uint16)
        items.append((f"d{day}", datetime(2020, 1, day, tzinfo=UTC),
                      {"B1": (b1, 0.0, 0.5, 1.0), "B2": (b2, 0.0, 1.0, 0.0),
                       "SCL": (scl, 255.0, 1.0, 0.0)}))
    path = make_collection(root / "syn", items, UTM, ORIGIN)
    catalog = Catalog.load([path])
    return {"engine": Engine(catalog, Settings(data_dir=root)), "items": items,
            "collection": catalog.get("syn")}


def run(synthetic: dict[str, Any], imagery: dict[str, Any], func: str = "mean",
        regions: Any = None) -> dict[str, list[Any]]:
    engine: Engine = synthetic["engine"]
    graph = {"process_id": "zonal_statistics", "args": {
        "imagery": imagery, "func": func,
        "regions": regions or geojson([to_wgs84(SQUARE), to_wgs84(TRIANGLE)])}}
    return dict(engine.evaluate_table(engine.compile(graph), policy=CACHED).columns)


def b1_view() -> dict[str, Any]:
    return {"process_id": "filter_bands", "args": {"imagery": {"product_id": "syn"},
                                                   "bands": ["B1"]}}


def expected(synthetic: dict[str, Any], arrays: list[np.ndarray], func: str,
             geoms: list[Any]) -> list[Any]:
    """rasterstats on in-memory arrays (NaN = no data), per date then per region."""
    out = []
    for array in arrays:
        stats = zonal_stats(geoms, np.where(np.isnan(array), -9999, array), affine=ORIGIN,
                            nodata=-9999, stats=[func])
        out.append([s[func] for s in stats])
    return out


def test_wgs84_polygons_nodata_and_scale(synthetic: dict[str, Any]) -> None:
    got = run(synthetic, b1_view())
    arrays = []
    for _, _, bands in synthetic["items"]:
        raw = bands["B1"][0].astype(float)
        arrays.append(np.where(raw == 0, np.nan, raw * 0.5 + 1.0))
    geoms = list(shapely.from_wkb(shapely.to_wkb([SQUARE, TRIANGLE])))
    reprojected = [shapely.transform(to_wgs84(g), lambda xy: np.column_stack(
        Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(xy[:, 0], xy[:, 1])))
        for g in geoms]
    want = expected(synthetic, arrays, "mean", reprojected)
    # rows: region 0 (two dates), region 1 (two dates)
    assert got["B1_mean"] == pytest.approx([want[0][0], want[1][0], want[0][1], want[1][1]],
                                           abs=1e-6)


def test_masked_pixels_do_not_count(synthetic: dict[str, Any]) -> None:
    masked = {"process_id": "mask", "args": {"imagery": b1_view(), "scl_classes": [9]}}
    got = run(synthetic, masked, regions=geojson([SQUARE], UTM))
    arrays = []
    for _, _, bands in synthetic["items"]:
        raw = bands["B1"][0].astype(float)
        bad = (raw == 0) | (bands["SCL"][0] == 9)
        arrays.append(np.where(bad, np.nan, raw * 0.5 + 1.0))
    want = expected(synthetic, arrays, "mean", [SQUARE])
    assert got["B1_mean"] == pytest.approx([want[0][0], want[1][0]], abs=1e-6)


def test_computed_imagery_uses_its_grid(synthetic: dict[str, Any]) -> None:
    ndvi = {"process_id": "ndvi", "args": {"imagery": {"product_id": "syn"},
                                           "red": "B1", "nir": "B2"}}
    got = run(synthetic, ndvi, func="max", regions=geojson([TRIANGLE], UTM))
    arrays = []
    for _, _, bands in synthetic["items"]:
        red = bands["B1"][0].astype(np.float32) * np.float32(0.5) + np.float32(1.0)
        nir = bands["B2"][0].astype(np.float32)
        nd = ((nir - red) / (nir + red)).astype(np.float32).astype(float)
        arrays.append(np.where(bands["B1"][0] == 0, np.nan, nd))
    want = expected(synthetic, arrays, "max", [TRIANGLE])
    assert got["ndvi_max"] == pytest.approx([want[0][0], want[1][0]], abs=1e-6)


def test_only_pixels_under_the_polygons_are_read(
    synthetic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = []
    original = RasterReader.read_cube

    def spy(self: RasterReader, collection: Any, acquisitions: Any, bands: Any, window: Any,
            **kw: Any) -> Any:
        windows.append(window)
        return original(self, collection, acquisitions, bands, window, **kw)

    monkeypatch.setattr(RasterReader, "read_cube", spy)
    run(synthetic, b1_view(), regions=geojson([SQUARE, TRIANGLE], UTM))
    assert len(windows) == 2  # one window per date for the one polygon group
    # the union of both polygons' boxes (70 x 70 pixels) plus one pixel of margin around
    assert {(w.width, w.height) for w in windows} == {(62, 62)}
    assert windows[0].bounds == pytest.approx((500090, 4999290, 500710, 4999910))
