"""The 17-date Landsat NDVI series through clients nobody here wrote: GDAL (Debian's
gdal-bin 3.6 and rasterio's own GDAL) and OWSLib, against a live server.

WMTS opens without an error line, its capabilities stay small with a short style list;
WCS 1.0.0 without TIME is one band, the latest date; WCS 2.0.1's DescribeCoverage gives
OWSLib exactly the job's dates (read independently from the STAC items), and GDAL's
2.0.1 slice on each date equals GDAL's 1.0.0 subdataset of that date, pixel for pixel.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
from owslib.wcs import WebCoverageService
from rasterio.io import MemoryFile

from tests.support.landsat import Series, acquisition_days, published_series

WMTS_NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
CURATED = ["default", "rdylgn", "viridis", "gray", "greys", "magma", "rdbu", "brbg"]


@pytest.fixture(scope="module")
def series(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Series]:
    with published_series(shared_data, tmp_path_factory.mktemp("landsat-server")) as published:
        yield published


@pytest.fixture(scope="module")
def days(shared_data: Path) -> list[date]:
    return acquisition_days(shared_data)


def gdal_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one of Debian's GDAL tools (skips, saying why, where gdal-bin is missing)."""
    tool = shutil.which(args[0])
    if tool is None:
        pytest.skip(f"{args[0]} (Debian's gdal-bin) is not installed; .ci/run installs it")
    done = subprocess.run(
        [tool, *args[1:]], capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "CPL_DEBUG": "OFF", "GDAL_ENABLE_WMS_CACHE": "NO"},
    )
    assert done.returncode == 0, done.stderr
    return done


def read_masked(path: Path | str, **options: str) -> np.ma.MaskedArray:
    with rasterio.open(path, **options) as dataset:
        assert dataset.count == 1
        return dataset.read(1, masked=True)


def assert_same(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> None:
    """Equal pixels; NaN (NDVI's no data) where the other has NaN."""
    a_data, b_data = np.ma.filled(a, np.nan), np.ma.filled(b, np.nan)
    np.testing.assert_array_equal(np.isnan(a_data), np.isnan(b_data))
    np.testing.assert_array_equal(a_data[~np.isnan(a_data)], b_data[~np.isnan(b_data)])


# --- WMTS -------------------------------------------------------------------------------


def test_gdal_cli_opens_and_translates_wmts_without_errors(
    series: Series, tmp_path: Path
) -> None:
    info = gdal_tool("gdalinfo", f"WMTS:{series.capabilities}")
    assert "ERROR" not in info.stderr and info.stderr.strip() == "", info.stderr
    names = re.findall(r"SUBDATASET_\d+_NAME=(.*)", info.stdout)
    assert len(names) == len(CURATED) * 3  # styles x WebMercatorQuad, WorldCRS84Quad, native
    source = next(n for n in names if "tilematrixset=WebMercatorQuad,style=default" in n)
    out = tmp_path / "wmts.tif"
    done = gdal_tool("gdal_translate", "-q", "-outsize", "256", "0", source, str(out))
    assert "ERROR" not in done.stderr, done.stderr
    with rasterio.open(out) as dataset:
        alpha = dataset.read(dataset.count)
    assert 0.2 < (alpha > 0).mean() < 1.0  # the layer, and empty corners around it


def test_rasterio_gdal_opens_wmts_without_errors(
    series: Series, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="rasterio"):
        with rasterio.Env(GDAL_ENABLE_WMS_CACHE="NO"):
            with rasterio.open(f"WMTS:{series.capabilities}") as dataset:
                subdatasets = dataset.subdatasets
            with rasterio.open(subdatasets[0]) as layer:
                picture = layer.read(out_shape=(layer.count, 64, 64))
    # rasterio logs each error GDAL signals ("GDAL signalled an error: ... Point outside of
    # projection domain" on the old capabilities) at INFO
    errors = [r.getMessage() for r in caplog.records
              if r.levelname == "ERROR" or "signalled an error" in r.getMessage()]
    assert errors == []
    assert len(subdatasets) == len(CURATED) * 3 and picture[-1].any()


def test_capabilities_are_small_with_the_curated_styles(series: Series) -> None:
    body = httpx.get(series.capabilities).content
    assert len(body) < 15_000, f"{len(body)} bytes"
    layer = ET.fromstring(body).find("w:Contents/w:Layer", WMTS_NS)
    assert layer is not None
    styles = [s.findtext("ows:Identifier", namespaces=WMTS_NS)
              for s in layer.findall("w:Style", WMTS_NS)]
    assert styles == CURATED
    boxes = {b.get("crs") for b in layer.findall("ows:BoundingBox", WMTS_NS)}
    assert boxes == {"urn:ogc:def:crs:EPSG::32618", "urn:ogc:def:crs:EPSG::3857",
                     "urn:ogc:def:crs:EPSG::4326"}


def _tile(series: Series, style: str, time: str) -> httpx.Response:
    return httpx.get(
        f"{series.wmts}/tile/1.0.0/{series.job_id}/{style}/{time}/WebMercatorQuad/6/23/18.png",
        timeout=120,
    )


def test_a_colormap_not_advertised_is_still_a_style(series: Series) -> None:
    default = _tile(series, "default", "2018-09-03")
    cividis = _tile(series, "cividis", "2018-09-03")
    assert default.status_code == cividis.status_code == 200
    assert cividis.headers["content-type"] == "image/png" and cividis.content != default.content
    assert _tile(series, "sepia", "2018-09-03").status_code == 400


@pytest.mark.parametrize("form", [
    "2018-09-03T00:00:00Z", "2018-09-03T00:00:00.000Z", "2018-09-03T00:00Z",
    "2018-09-03T00:00:00+00:00", "20180903",
])
def test_every_iso_form_of_an_advertised_date(series: Series, form: str) -> None:
    advertised = _tile(series, "default", "2018-09-03")
    other = _tile(series, "default", form)
    assert other.status_code == 200, other.text
    assert other.content == advertised.content
    assert _tile(series, "default", "2018-09-04T00:00:00Z").status_code == 400


# --- WCS --------------------------------------------------------------------------------


def _get_coverage_10(series: Series, time: str | None) -> httpx.Response:
    params = {"SERVICE": "WCS", "VERSION": "1.0.0", "REQUEST": "GetCoverage",
              "COVERAGE": series.coverage, "FORMAT": "GeoTIFF", "CRS": "EPSG:32618",
              "BBOX": "391927.987012987,4346032.792207792,759401.4935064935,4740615.0",
              "WIDTH": "122", "HEIGHT": "131"}
    if time is not None:
        params["TIME"] = time
    return httpx.get(series.wcs, params=params, timeout=120)


def test_wcs10_without_time_is_one_band_the_latest_date(series: Series, days: list[date]) -> None:
    plain, latest = _get_coverage_10(series, None), _get_coverage_10(series, days[-1].isoformat())
    assert plain.status_code == latest.status_code == 200
    with MemoryFile(plain.content) as a, a.open() as one, MemoryFile(latest.content) as b, \
            b.open() as last:
        assert one.count == 1 == last.count
        assert_same(one.read(1, masked=True), last.read(1, masked=True))
        assert np.isfinite(one.read(1)).mean() > 0.2


def test_owslib_reads_the_jobs_dates(series: Series, days: list[date]) -> None:
    coverage = WebCoverageService(series.wcs, version="2.0.1").contents[series.coverage]
    positions = coverage.timepositions
    assert len(positions) == len(days) == 17
    assert [p.date() for p in positions] == days


def test_owslib_asking_wcs_11_learns_the_versions_offered(series: Series) -> None:
    from owslib.util import ServiceException

    with pytest.raises(ServiceException, match="2.0.1 and 1.0.0"):
        WebCoverageService(series.wcs, version="1.1.0")


def _subdatasets_10(text: str) -> dict[str, str]:
    """``{time: subdataset name}`` of a WCS 1.0 gdalinfo."""
    names = re.findall(r'SUBDATASET_\d+_NAME=(WCS_SDS:time="?([^",]+)"?,.*)', text)
    return {time: name for name, time in names}


def test_gdal_cli_wcs20_slices_equal_wcs10_times(
    series: Series, days: list[date], tmp_path: Path
) -> None:
    cache = ["-oo", f"CACHE={tmp_path / 'cache'}"]
    source10 = f"WCS:{series.wcs}?version=1.0.0&coverage={series.coverage}"
    by_time = _subdatasets_10(gdal_tool("gdalinfo", *cache, source10).stdout)
    assert [t[:10] for t in by_time] == [d.isoformat() for d in days]
    source20 = f"WCS:{series.wcs}?version=2.0.1&coverage={series.coverage}"
    for day, name in zip(days, by_time.values(), strict=True):
        old, new = tmp_path / f"{day}-10.tif", tmp_path / f"{day}-20.tif"
        gdal_tool("gdal_translate", "-q", *cache, name, str(old))
        done = gdal_tool("gdal_translate", "-q", *cache, "-oo", f'SUBSET=ansi("{day}")',
                         source20, str(new))
        assert "ERROR" not in done.stderr, done.stderr
        assert_same(read_masked(new), read_masked(old))
    assert np.isfinite(np.ma.filled(read_masked(new), np.nan)).any()


def test_rasterio_gdal_wcs20_slices_equal_wcs10_times(
    series: Series, days: list[date], tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    with rasterio.open(f"WCS:{series.wcs}?version=1.0.0&coverage={series.coverage}",
                       CACHE=cache) as dataset:
        assert dataset.count == 1  # one band, as DescribeCoverage declares
        names = dataset.subdatasets
    by_day = {re.sub(r'^WCS_SDS:time="?', "", n)[:10]: n for n in names}  # 3.10: no quotes
    assert sorted(by_day) == [d.isoformat() for d in days]
    source20 = f"WCS:{series.wcs}?version=2.0.1&coverage={series.coverage}"
    finite = 0
    for day in days:
        new = read_masked(source20, CACHE=cache, SUBSET=f'ansi("{day}")')
        assert_same(new, read_masked(by_day[day.isoformat()]))
        finite += int(np.isfinite(np.ma.filled(new, np.nan)).sum())
    assert finite > 0


def test_no_data_as_gdal_reads_it(series: Series, days: list[date], tmp_path: Path) -> None:
    """What docs/wcs.md says of no data: DescribeCoverage 2.0.1 declares NaN in SWE 2.0's
    form, GDAL's 1.0.0 driver reports NaN, and ``gdal_translate -a_nodata nan`` of a 2.0.1
    slice gives a file whose no data is NaN with the same pixels."""
    described = httpx.get(series.wcs, timeout=60, params={
        "SERVICE": "WCS", "VERSION": "2.0.1", "REQUEST": "DescribeCoverage",
        "COVERAGEID": series.coverage})
    swe = "{http://www.opengis.net/swe/2.0}"
    nils = ET.fromstring(described.content).iter(f"{swe}nilValue")
    assert [n.text for n in nils] == ["NaN"]
    cache = ["-oo", f"CACHE={tmp_path / 'cache'}"]
    source10 = f"WCS:{series.wcs}?version=1.0.0&coverage={series.coverage}"
    assert "NoData Value=nan" in gdal_tool("gdalinfo", *cache, source10).stdout
    day = days[len(days) // 2]
    source20 = f"WCS:{series.wcs}?version=2.0.1&coverage={series.coverage}"
    plain, marked = tmp_path / "plain.tif", tmp_path / "marked.tif"
    for target, extra in ((plain, []), (marked, ["-a_nodata", "nan"])):
        gdal_tool("gdal_translate", "-q", *cache, *extra, "-oo", f'SUBSET=ansi("{day}")',
                  source20, str(target))
    with rasterio.open(marked) as dataset:
        assert dataset.nodata is not None and np.isnan(dataset.nodata)
        values = dataset.read(1, masked=True)
    assert values.mask.any() and not values.mask.all()
    assert_same(values, read_masked(plain))
    np.testing.assert_array_equal(values.mask, np.isnan(np.ma.filled(read_masked(plain), 0)))
