"""Tests of the demo generator: determinism, COG layout, SCL consistency, seasonality."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio

from ondemand import demo
from ondemand.catalog import Catalog
from ondemand.demo.landscape import COVERS, landscape, pixel_grid

L2A = "S2_L2A_T32TPS_20M"
L1C = "Sentinel2-L1C"


# The full-size demo comes from conftest's session fixtures (generated once per run):
# these tests are the CI check of the full-size generation.


@pytest.fixture(scope="module")
def full_demo(demo_data_dir: Path) -> list[Path]:
    return demo.ensure_demo_catalog(demo_data_dir)


@pytest.fixture(scope="module")
def full_catalog(demo_catalog: Catalog) -> Catalog:
    return demo_catalog


def _read(catalog: Catalog, cid: str, index: int, band: str) -> np.ndarray:
    item = catalog.get(cid).items[index]
    with rasterio.open(item.assets[band].href) as ds:
        return np.asarray(ds.read(1))


def _arrays(root: Path) -> dict[str, np.ndarray]:
    out = {}
    for tif in sorted(root.rglob("*.tif")):
        with rasterio.open(tif) as ds:
            out[str(tif.relative_to(root))] = ds.read(1)
    return out


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = demo.generate_demo(tmp_path / "a", downscale=8)
    b = demo.generate_demo(tmp_path / "b", downscale=8)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    first, second = _arrays(tmp_path / "a"), _arrays(tmp_path / "b")
    assert first.keys() == second.keys() and len(first) == 15 * 10 + 3 * 13
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    for pa, pb in zip(a, b, strict=True):
        assert json.loads(pa.read_text()) == json.loads(pb.read_text())


def test_full_size_extent_and_size(full_demo: list[Path], full_catalog: Catalog) -> None:
    root = full_demo[0].parent.parent
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert total < 160 * 1024**2
    l2a = full_catalog.get(L2A)
    with rasterio.open(l2a.items[0].assets["B04"].href) as ds:
        b = ds.bounds
        assert ds.res == (20.0, 20.0) and ds.crs.to_epsg() == 32632
    assert b.left <= 652000 and b.right >= 672000 and b.bottom <= 5161000 and b.top >= 5181000
    l1c = full_catalog.get(L1C)
    w, s, e, n = l1c.bbox
    assert w <= 16.1 and e >= 16.6 and s <= 47.2 and n >= 48.6
    with rasterio.open(l1c.items[0].assets["B02"].href) as ds:
        assert ds.res == (60.0, 60.0) and ds.crs.to_epsg() == 32633


@pytest.mark.parametrize(
    ("cid", "band"),
    [(L2A, "B04"), (L2A, "SCL"), (L1C, "B01"), (L1C, "B8A")],
    ids=["l2a-B04", "l2a-SCL", "l1c-B01", "l1c-B8A"],
)
def test_cog_layout(full_catalog: Catalog, cid: str, band: str) -> None:
    href = full_catalog.get(cid).items[1].assets[band].href
    with rasterio.open(href) as ds:
        assert ds.count == 1
        assert ds.block_shapes == [(512, 512)]
        assert len(ds.overviews(1)) >= 1
        assert ds.nodata == 0
        assert ds.dtypes[0] == ("uint8" if band == "SCL" else "uint16")
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.compression is not None and ds.compression.value == "DEFLATE"


def test_dates(full_catalog: Catalog) -> None:
    l2a = full_catalog.get(L2A)
    january = [i for i in l2a.items if (i.datetime.year, i.datetime.month) == (2017, 1)]
    assert len(january) >= 3
    months = {(i.datetime.year, i.datetime.month) for i in l2a.items}
    assert len(months) >= 13
    l1c = full_catalog.get(L1C)
    assert len(l1c.items) >= 3
    assert all((i.datetime.year, i.datetime.month) == (2017, 1) for i in l1c.items)


@pytest.mark.parametrize("index", [1, 5, 12], ids=["jan-14", "apr-14", "nov-10"])
def test_scl_consistent_with_reflectance(full_catalog: Catalog, index: int) -> None:
    scl = _read(full_catalog, L2A, index, "SCL")
    blue = _read(full_catalog, L2A, index, "B02").astype(float)
    red = _read(full_catalog, L2A, index, "B04").astype(float)
    nir = _read(full_catalog, L2A, index, "B8A").astype(float)
    assert np.count_nonzero(np.isin(scl, (8, 9))) > 1000
    # nodata in every band exactly where SCL says "no data"
    np.testing.assert_array_equal(scl == 0, blue == 0)
    np.testing.assert_array_equal(scl == 0, nir == 0)
    # clouds are bright: high-probability cloud far above clear land
    clear_land = np.isin(scl, (4, 5))
    assert blue[scl == 9].min() > 3500
    assert blue[scl == 8].mean() > 2.5 * blue[clear_land].mean()
    # shadows are darker than clear land, water has negative NDVI
    assert nir[scl == 3].mean() < 0.6 * nir[clear_land].mean()
    ndvi = (nir - red) / np.maximum(nir + red, 1)
    assert np.all(ndvi[scl == 6] < 0)
    assert np.all(ndvi[scl == 4] >= 0.3)


def test_partial_swath_is_diagonal(full_catalog: Catalog) -> None:
    scl = _read(full_catalog, L2A, 1, "SCL")
    nodata = scl == 0
    assert 0.02 < nodata.mean() < 0.3
    rows_nodata = nodata.sum(axis=1)
    assert rows_nodata[-1] > rows_nodata[0]  # the strip widens towards the bottom: a diagonal
    assert not nodata[:, 0].any()  # only along the east side
    assert not (_read(full_catalog, L2A, 2, "SCL") == 0).any()  # a date without the cut


@pytest.mark.parametrize(
    ("cover", "months", "low", "high"),
    [
        ("maize", (7, 8), 0.3, 0.75),
        ("soy", (7, 8), 0.3, 0.7),
        ("winter_cereal", (5, 6), 0.45, 0.75),
        ("forest", (6, 7, 8), 0.75, 0.8),
    ],
    ids=["maize", "soy", "winter-cereal", "forest"],
)
def test_ndvi_of_vegetation_peaks_in_season(
    full_catalog: Catalog, cover: str, months: tuple[int, ...], low: float, high: float
) -> None:
    # the generator's land-cover map only selects the pixels; NDVI comes from the files
    spec = demo.collection_specs(1)[0]
    land = landscape(spec, pixel_grid(spec))
    fields = land.cover == [c[0] for c in COVERS].index(cover)
    series = []
    for k, item in enumerate(full_catalog.get(L2A).items):
        scl = _read(full_catalog, L2A, k, "SCL")
        red = _read(full_catalog, L2A, k, "B04").astype(float) * 1e-4
        nir = _read(full_catalog, L2A, k, "B8A").astype(float) * 1e-4
        use = fields & np.isin(scl, (4, 5))
        ndvi = (nir[use] - red[use]) / (nir[use] + red[use])
        series.append((item.datetime, float(np.median(ndvi)), ndvi))
    peak_date, peak, values = max(series, key=lambda m: m[1])
    assert peak_date.month in months
    assert peak > high
    assert float(np.percentile(values, 99)) <= 0.95
    january = [m for d, m, _ in series if d.month == 1]
    assert max(january) < low


def test_l1c_bands_are_top_of_atmosphere(full_catalog: Catalog) -> None:
    coastal = _read(full_catalog, L1C, 2, "B01").astype(float)  # the cloud-free date
    assert coastal.min() >= 900  # path radiance brightens the coastal band everywhere


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The targets the real demo generator is run for (it still runs)."""
    targets: list[Path] = []
    real = demo.generate_demo

    def counting(target: Path, **kw: int) -> list[Path]:
        targets.append(target)
        return real(target, **kw)

    monkeypatch.setattr(demo, "generate_demo", counting)
    return targets


def test_ensure_caches_and_regenerates(tmp_path: Path, calls: list[Path]) -> None:
    first = demo.ensure_demo_catalog(tmp_path, downscale=12)
    probe = next((tmp_path / "demo").rglob("B04.tif"))
    mtime = probe.stat().st_mtime_ns
    again = demo.ensure_demo_catalog(tmp_path, downscale=12)
    assert first == again and len(calls) == 1 and probe.stat().st_mtime_ns == mtime
    (tmp_path / "demo" / demo.MARKER).write_text(json.dumps({"generator": -1, "downscale": 12}))
    demo.ensure_demo_catalog(tmp_path, downscale=12)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.lock", "demo"]
    assert all(p.is_file() for p in first)


def test_crash_leaves_no_half_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(target: Path, **kw: int) -> list[Path]:
        (target / "partial.tif").write_bytes(b"x")
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "generate_demo", crash)
    with pytest.raises(RuntimeError):
        demo.ensure_demo_catalog(tmp_path, downscale=12)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.lock"]


def test_concurrent_callers_generate_once(tmp_path: Path, calls: list[Path]) -> None:
    results: list[list[Path]] = []
    threads = [
        threading.Thread(target=lambda: results.append(demo.ensure_demo_catalog(tmp_path,
                                                                                downscale=12)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 3 and results[0] == results[1] == results[2]
    assert os.path.isfile(results[0][0])


def test_downscale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="downscale"):
        demo.collection_specs(0)
