"""Tests of the STAC catalog: loading the real fixtures and the demo, band lookup, search."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.windows
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from ondemand import demo
from ondemand.catalog import Catalog, Collection
from ondemand.errors import BandNotFound, CatalogInvalid, CollectionNotFound
from tests.support.cogs import make_collection

FIXTURES = ["landsat8-ny-2018", "s2-l1c-18svg", "s2-l2a-29rkh", "s2-ndvi-slovenia",
            "s2-rgb-mol-2023"]


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Catalog:
    return Catalog.load(shared_data / name / "collection.json" for name in FIXTURES)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(demo.ensure_demo_catalog(tmp_path_factory.mktemp("d"), downscale=8))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ----------------------------------------------------------------- real fixtures


@pytest.mark.parametrize(
    ("cid", "n_items", "epsg", "bands"),
    [
        ("landsat8-ny-2018", 19, 32618, ["B2", "B3", "B4", "B5", "BQA"]),
        ("s2-l1c-18svg", 1, 32618, ["B02", "B03", "B04", "B08", "B8A", "B11", "B12"]),
        ("s2-l2a-29rkh", 1, 32629, ["B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"]),
        ("s2-ndvi-slovenia", 68, 32633, ["NDVI", "CLM"]),
        ("s2-rgb-mol-2023", 3, 32631, ["B04", "B03", "B02"]),
    ],
    ids=FIXTURES,
)
def test_fixture_facts(real: Catalog, cid: str, n_items: int, epsg: int, bands: list[str]) -> None:
    coll = real.get(cid)
    assert len(coll.items) == n_items
    assert [b.name for b in coll.bands] == bands
    assert coll.crs == CRS.from_epsg(epsg)
    assert [i.datetime for i in coll.items] == sorted(i.datetime for i in coll.items)
    assert all(i.datetime.tzinfo is not None for i in coll.items)
    assert coll.interval == (coll.items[0].datetime, coll.items[-1].datetime)
    for item in coll.items[:3]:
        for band in coll.bands:
            asset = item.assets[band.name]
            assert os.path.isabs(asset.href)
            with rasterio.open(asset.href) as ds:
                assert ds.crs == item.crs
                assert ds.dtypes[0] == band.dtype
                assert asset.transform == ds.transform and asset.shape == ds.shape


@pytest.mark.parametrize(
    ("cid", "band", "file_nodata", "stac_nodata"),
    [
        ("landsat8-ny-2018", "B4", None, 0.0),  # the trap: nodata only in STAC
        ("s2-l1c-18svg", "B8A", 0.0, 0.0),
        ("s2-l2a-29rkh", "SCL", 0.0, 0.0),
        ("s2-ndvi-slovenia", "NDVI", math.nan, math.nan),
        ("s2-ndvi-slovenia", "CLM", 255.0, 255.0),
        ("s2-rgb-mol-2023", "B02", -32768.0, -32768.0),
    ],
    ids=["landsat-stac-only", "l1c", "l2a-scl", "slovenia-nan", "slovenia-clm", "mol-int16"],
)
def test_nodata(
    real: Catalog, cid: str, band: str, file_nodata: float | None, stac_nodata: float
) -> None:
    coll = real.get(cid)
    with rasterio.open(coll.items[0].assets[band].href) as ds:
        if file_nodata is None:
            assert ds.nodata is None
        else:
            np.testing.assert_equal(ds.nodata, file_nodata)
    np.testing.assert_equal(coll.band(band).nodata, stac_nodata)


@pytest.mark.parametrize(
    ("cid", "band"),
    [("s2-l1c-18svg", "B04"), ("s2-l1c-18svg", "B8A"), ("s2-l2a-29rkh", "B02"),
     ("s2-l2a-29rkh", "B12"), ("s2-ndvi-slovenia", "NDVI"), ("landsat8-ny-2018", "B5")],
    ids=["l1c-10m", "l1c-20m", "l2a-100m", "l2a-200m", "slovenia-9.995m", "landsat-3km"],
)
def test_band_resolution_from_proj_transform(real: Catalog, cid: str, band: str) -> None:
    coll = real.get(cid)
    with rasterio.open(coll.items[0].assets[band].href) as ds:
        expected = min(ds.res)
    assert coll.band(band).res_m == pytest.approx(expected)


def test_mixed_resolution_item(real: Catalog) -> None:
    coll = real.get("s2-l1c-18svg")
    res = {b.name: b.res_m for b in coll.bands}
    assert res == {"B02": 10, "B03": 10, "B04": 10, "B08": 10, "B8A": 20, "B11": 20, "B12": 20}
    assert coll.resolution == 10.0
    item = coll.items[0]
    assert item.assets["B04"].shape == (1024, 1024) and item.assets["B8A"].shape == (512, 512)


def test_landsat_same_date_items_on_different_grids(real: Catalog) -> None:
    coll = real.get("landsat8-ny-2018")
    per_day = Counter(i.datetime.date().isoformat() for i in coll.items)
    assert {d for d, n in per_day.items() if n > 1} == {"2018-04-28", "2018-09-03"}
    found = coll.search(coll.bbox, CRS.from_epsg(4326), _utc(2018, 4, 28), _utc(2018, 4, 28, 23))
    assert sorted(i.id for i in found) == ["LC08_L1TP_014031_20180428", "LC08_L1TP_014032_20180428"]
    transforms = {i.assets["B4"].transform for i in found}
    assert len(transforms) == 2


def _brute_force(coll: Collection, bounds: tuple[float, float, float, float], crs: CRS,
                 start: datetime | None, end: datetime | None) -> list[str]:
    w, s, e, n = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    return [
        i.id for i in coll.items
        if (start is None or i.datetime >= start) and (end is None or i.datetime <= end)
        and i.bbox[0] <= e and i.bbox[2] >= w and i.bbox[1] <= n and i.bbox[3] >= s
    ]


@pytest.mark.parametrize(
    ("cid", "bounds", "epsg", "start", "end"),
    [
        ("landsat8-ny-2018", (580000, 4500000, 600000, 4520000), 32618, None, None),
        ("landsat8-ny-2018", (-74.1, 40.6, -73.8, 40.9), 4326, _utc(2018, 3, 1), _utc(2018, 9, 3)),
        ("landsat8-ny-2018", (-8.4e6, 4.9e6, -8.3e6, 5.0e6), 3857, _utc(2018, 6, 1), None),
        ("landsat8-ny-2018", (300000, 4300000, 310000, 4310000), 32618, None, None),
        ("s2-ndvi-slovenia", (465200, 5079300, 465400, 5079500), 32633,
         _utc(2016, 1, 1), _utc(2016, 12, 31)),
        ("s2-ndvi-slovenia", (465200, 5079300, 465400, 5079500), 32633,
         _utc(2015, 7, 11, 10, 0, 8), _utc(2015, 7, 31, 23)),
        ("s2-ndvi-slovenia", (0, 0, 10, 10), 32633, None, None),
    ],
    ids=["landsat-utm", "landsat-lonlat-dates", "landsat-webmercator", "landsat-outside",
         "slovenia-2016", "slovenia-inclusive-start", "slovenia-nowhere"],
)
def test_search_matches_brute_force(
    real: Catalog, cid: str, bounds: tuple[float, float, float, float], epsg: int,
    start: datetime | None, end: datetime | None,
) -> None:
    coll = real.get(cid)
    crs = CRS.from_epsg(epsg)
    found = [i.id for i in coll.search(bounds, crs, start, end)]
    assert found == _brute_force(coll, bounds, crs, start, end)
    if cid == "s2-ndvi-slovenia" and start == _utc(2016, 1, 1):
        assert len(found) == sum(1 for i in coll.items if i.datetime.year == 2016) > 10
    if cid.endswith("nowhere") or bounds == (300000, 4300000, 310000, 4310000):
        assert found == []


def test_search_start_is_inclusive(real: Catalog) -> None:
    coll = real.get("s2-ndvi-slovenia")
    first = coll.items[0]
    found = coll.search(coll.bbox, CRS.from_epsg(4326), first.datetime, first.datetime)
    assert [i.id for i in found] == [first.id]


def test_identity_follows_file_mtime(tmp_path: Path) -> None:
    arr = np.arange(1, 65, dtype="uint16").reshape(8, 8)
    path = make_collection(tmp_path / "c", [("a", _utc(2020, 1, 1), {"B1": (arr, 0, 1.0, 0.0)})],
                           32631, Affine(10, 0, 500000, 0, -10, 5000000))
    before = Catalog.load([path]).get("c").items[0].identity
    tif = tmp_path / "c" / "a" / "B1.tif"
    os.utime(tif, ns=(tif.stat().st_atime_ns, tif.stat().st_mtime_ns + 10**9))
    after = Catalog.load([path]).get("c").items[0].identity
    assert before != after and after == str(tif.stat().st_mtime_ns)


def test_identity_follows_any_asset_not_only_the_newest(tmp_path: Path) -> None:
    """Touching an older asset changes the identity even when another asset is newer."""
    arr = np.arange(1, 65, dtype="uint16").reshape(8, 8)
    bands = {"B1": (arr, 0, 1.0, 0.0), "B2": (arr, 0, 1.0, 0.0)}
    path = make_collection(tmp_path / "c", [("a", _utc(2020, 1, 1), bands)],
                           32631, Affine(10, 0, 500000, 0, -10, 5000000))
    b1, b2 = tmp_path / "c" / "a" / "B1.tif", tmp_path / "c" / "a" / "B2.tif"
    os.utime(b2, ns=(b2.stat().st_atime_ns, b1.stat().st_mtime_ns + 10 * 10**9))
    before = Catalog.load([path]).get("c").items[0].identity
    os.utime(b1, ns=(b1.stat().st_atime_ns, b1.stat().st_mtime_ns + 10**9))
    assert Catalog.load([path]).get("c").items[0].identity != before


# ----------------------------------------------------------------- made collections


def test_make_collection_round_trip(tmp_path: Path) -> None:
    red = np.full((40, 60), 1000, dtype="uint16")
    nir = np.full((20, 30), 3000, dtype="uint16")
    t0 = Affine(10, 0, 600000, 0, -10, 5000400)
    path = make_collection(
        tmp_path / "mine",
        [("d2", _utc(2021, 5, 2), {"B04": (red, 0, 1e-4, -0.1), "B8A": (nir, 0, 1e-4, -0.1)}),
         ("d1", _utc(2021, 5, 1), {"B04": (red, 0, 1e-4, -0.1), "B8A": (nir, 0, 1e-4, -0.1)})],
        32632, t0,
        band_info={"B04": {"common_name": "red", "center_wavelength": 0.665}},
    )
    coll = Catalog.load([path]).get("mine")
    assert [i.id for i in coll.items] == ["d1", "d2"]
    red_band = coll.band("red")
    assert (red_band.name, red_band.wavelength_nm, red_band.scale, red_band.offset) == (
        "B04", 665.0, 1e-4, -0.1)
    assert coll.band("B8A").res_m == 20.0 and coll.resolution == 10.0
    with rasterio.open(coll.items[0].assets["B8A"].href) as ds:
        assert ds.transform == coll.items[0].assets["B8A"].transform == t0 * Affine.scale(2)
        np.testing.assert_array_equal(ds.read(1), nir)


def _write(path: Path, doc: object) -> None:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))


@pytest.mark.parametrize("defect", ["missing-file", "bad-json", "no-items", "missing-asset",
                                    "not-a-collection"])
def test_broken_catalog_raises(tmp_path: Path, defect: str) -> None:
    arr = np.ones((8, 8), dtype="uint16")
    path = make_collection(tmp_path / "c", [("a", _utc(2020, 1, 1), {"B1": (arr, 0, 1.0, 0.0)})],
                           32631, Affine(10, 0, 500000, 0, -10, 5000000))
    doc = json.loads(path.read_text())
    if defect == "missing-file":
        path = tmp_path / "nope" / "collection.json"
    elif defect == "bad-json":
        _write(path, "{not json")
    elif defect == "no-items":
        doc["links"] = [link for link in doc["links"] if link["rel"] != "item"]
        _write(path, doc)
    elif defect == "missing-asset":
        (tmp_path / "c" / "a" / "B1.tif").unlink()
    else:
        _write(path, {"type": "Feature", "id": "x"})
    with pytest.raises(CatalogInvalid, match="collection.json"):
        Catalog.load([path])


# ----------------------------------------------------------------- bands, ids, product


@pytest.mark.parametrize(
    ("ref", "name"),
    [("B04", "B04"), ("4", "B04"), (4, "B04"), ("red", "B04"), ("RED", "B04"), ("8a", "B8A"),
     ("8A", "B8A"), (8, "B08"), ("nir", "B08"), ("b12", "B12"), (1, "B01")],
    ids=["name", "id-str", "id-int", "common", "common-upper", "8a", "8A", "int-8", "nir",
         "name-lower", "int-1"],
)
def test_band_lookup_demo_l1c(small_demo: Catalog, ref: str | int, name: str) -> None:
    assert small_demo.get("Sentinel2-L1C").band(ref).name == name


@pytest.mark.parametrize(("ref", "name"), [(8, "B08"), ("4", "B04"), ("b8a", "B8A")],
                         ids=["int-to-B08", "digits-to-B04", "lower"])
def test_band_lookup_fixture_numbers(real: Catalog, ref: str | int, name: str) -> None:
    assert real.get("s2-l1c-18svg").band(ref).name == name


@pytest.mark.parametrize("ref", ["B99", "swir", 13, ""], ids=["name", "common", "int", "empty"])
def test_unknown_band(small_demo: Catalog, ref: str | int) -> None:
    with pytest.raises(BandNotFound, match="Sentinel2-L1C") as info:
        small_demo.get("Sentinel2-L1C").band(ref)
    assert "B8A" in str(info.value) and "8a" in str(info.value)


def test_collection_ids_and_aliases(small_demo: Catalog, real: Catalog) -> None:
    l1c = small_demo.get("Sentinel2-L1C")
    assert small_demo.get("Sentinel2A-L1C") is l1c and small_demo.get("Sentinel-2A-L1C") is l1c
    assert "Sentinel-2A-L1C" in small_demo and "Sentinel-2B-L1C" not in small_demo
    assert [c.id for c in small_demo] == ["S2_L2A_T32TPS_20M", "Sentinel2-L1C"]
    with pytest.raises(CollectionNotFound, match="S2_L2A_T32TPS_20M, Sentinel2-L1C"):
        small_demo.get("MOD09Q1")
    with pytest.raises(CatalogInvalid, match="Sentinel2-L1C"):
        Catalog([*small_demo, l1c])
    assert sorted(c.id for c in real) == FIXTURES


# The draft's GET /data/Sentinel-2A-L1C example: band_id, name, wavelength_nm, res_m.
DRAFT_L1C = [
    ("1", None, 443.9, 60), ("2", "blue", 496.6, 10), ("3", "green", 560, 10),
    ("4", "red", 664.5, 10), ("5", None, 703.9, 20), ("6", None, 740.2, 20),
    ("7", None, 782.5, 20), ("8", "nir", 835.1, 10), ("8a", None, 864.8, 20),
    ("9", None, 945, 60), ("10", None, 1373.5, 60), ("11", None, 1613.7, 20),
    ("12", None, 2202.4, 20),
]


def test_product_matches_draft(small_demo: Catalog) -> None:
    body = small_demo.get("Sentinel-2A-L1C").product()
    assert body["product_id"] == "Sentinel2-L1C"
    assert "synthetic" in body["description"].lower()
    got = [(b["band_id"], b.get("name"), b["wavelength_nm"], b["res_m"]) for b in body["bands"]]
    assert got == DRAFT_L1C
    for band in body["bands"]:
        assert band["scale"] == 0.0001 and band["offset"] == 0 and band["nodata"] == [0]
        assert band["type"] == "uint16"
        assert "name" in band or band["band_id"] not in ("2", "3", "4", "8")
    ext = body["extent"]
    assert ext["srs"] == "EPSG:4326"
    assert ext["left"] <= 16.1 and ext["right"] >= 16.6
    assert ext["bottom"] <= 47.2 and ext["top"] >= 48.6
    assert body["time"]["from"][:10] == "2017-01-06" and body["time"]["to"][:10] == "2017-01-26"
    assert all(datetime.fromisoformat(t).tzinfo is not None for t in body["time"].values())
    json.dumps(body, allow_nan=False)


def test_product_nan_nodata_is_json_safe(real: Catalog) -> None:
    body = real.get("s2-ndvi-slovenia").product()
    assert body["bands"][0]["nodata"] == ["nan"] and body["bands"][1]["nodata"] == [255]
    json.dumps(body, allow_nan=False)


def test_demo_band_metadata(small_demo: Catalog) -> None:
    l2a = small_demo.get("S2_L2A_T32TPS_20M")
    assert [b.name for b in l2a.bands] == ["B02", "B03", "B04", "B05", "B06", "B07", "B8A",
                                           "B11", "B12", "SCL"]
    assert l2a.band("nir08").name == "B8A" and l2a.band("swir16").name == "B11"
    assert l2a.band("SCL").dtype == "uint8" and l2a.band("SCL").scale == 1.0
    assert l2a.crs == CRS.from_epsg(32632)
    # downscale 8: 160 m pixels, which the band metadata reports for this 20 m product
    with rasterio.open(l2a.items[0].assets["B04"].href) as ds:
        assert l2a.resolution == ds.res[0] == l2a.band("B04").res_m == 160
    l1c = small_demo.get("Sentinel2-L1C")
    with rasterio.open(l1c.items[0].assets["B04"].href) as ds:
        assert l1c.resolution == ds.res[0] == 480
    assert l1c.stac["ondemand:pixel_size_m"] == 480
    assert all(link["href"].startswith("http") for link in l1c.stac["links"])


def test_search_respects_footprint(small_demo: Catalog) -> None:
    """The swath-edge date's footprint excludes its nodata corner; its bbox does not."""
    coll = small_demo.get("S2_L2A_T32TPS_20M")
    cut = next(i for i in coll.items if i.datetime.date().isoformat() == "2017-01-14")
    with rasterio.open(cut.assets["B04"].href) as ds:
        right, bottom = ds.bounds.right, ds.bounds.bottom
        corner = (right - 1500, bottom, right, bottom + 1500)
        window = rasterio.windows.from_bounds(*corner, transform=ds.transform)
        assert not ds.read(1, window=window).any()  # all nodata there
    crs = CRS.from_epsg(32632)
    january = coll.search(corner, crs, _utc(2017, 1, 1), _utc(2017, 1, 31, 23))
    assert [i.datetime.day for i in january] == [4, 24]
    centre = (660000, 5170000, 661000, 5171000)
    assert [i.datetime.day for i in coll.search(centre, crs, _utc(2017, 1, 1),
                                                _utc(2017, 1, 31))] == [4, 14, 24]
