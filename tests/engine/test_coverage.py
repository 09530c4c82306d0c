"""The coverage model and the request -> window math, on the use-case-1 job (demo catalog)."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from ondemand.catalog import Catalog
from ondemand.coverage import (
    Coverage,
    RangeType,
    coverage_of,
    crs_axes,
    probe_range,
    read_coverage,
    window_10,
    window_for,
)
from ondemand.engine import Engine
from ondemand.errors import AxisLabelInvalid, PixelLimitExceeded, ScaleInvalid, SubsetInvalid
from ondemand.layer import make_layer
from ondemand.settings import Settings
from ondemand.window import Window
from services.ogc.wcs.axes import from_ansi, times_between, to_ansi
from services.ogc.wcs.subsets import GetCoverage as CoverageRequest
from services.ogc.wcs.subsets import Subset, coverage_request, parse_subset, times_10
from tests.support.seed import use_case_1_job

UTM = CRS.from_epsg(32632)
WGS84 = CRS.from_epsg(4326)
DATES = tuple(datetime(2017, 1, d, 10, 5, tzinfo=UTC) for d in (4, 14, 24))


def window_of(coverage: Coverage, query: CoverageRequest) -> Window:
    """The window of a WCS 2.0 GetCoverage's parameters: parsed (services), then typed."""
    return window_for(coverage, coverage_request(coverage, query))


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings(max_pixels=2_000_000))
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def minimum(engine: Engine) -> Coverage:
    layer = make_layer("abc", "min NDVI", engine.compile(use_case_1_job()["process_graph"]))
    return coverage_of(layer, probe_range(engine, layer))


@pytest.fixture(scope="module")
def series(engine: Engine) -> Coverage:
    graph = copy.deepcopy(use_case_1_job()["process_graph"]["args"]["imagery"])
    layer = make_layer("def", "NDVI series", engine.compile(graph))
    return coverage_of(layer, probe_range(engine, layer))


def test_coverage_model(minimum: Coverage, series: Coverage) -> None:
    # the job's bbox (652000..672000, 5161000..5181000) on the collection's 20 m grid
    assert (minimum.id, minimum.job_id) == ("job_abc", "abc")
    assert minimum.bounds == (652000.0, 5161000.0, 672000.0, 5181000.0)
    assert (minimum.width, minimum.height, minimum.resolution) == (1000, 1000, (20.0, 20.0))
    assert minimum.range == RangeType(("ndvi",), "float32")
    assert math.isnan(minimum.range.nodata)
    assert [a.label for a in minimum.axes] == ["E", "N"]
    assert minimum.times is None
    assert series.times == DATES
    assert [a.label for a in series.axes] == ["E", "N", "ansi"]
    assert minimum.matches("abc") and minimum.matches("job_abc") and not minimum.matches("x")


@pytest.mark.parametrize(
    ("epsg", "labels"),
    [
        pytest.param(32632, ["E", "N"], id="utm"),
        pytest.param(4326, ["Lat", "Long"], id="wgs84-lat-first"),
        pytest.param(3857, ["X", "Y"], id="web-mercator"),
    ],
)
def test_crs_axes(epsg: int, labels: list[str]) -> None:
    assert [a.label for a in crs_axes(CRS.from_epsg(epsg))] == labels


def test_ansi_dates() -> None:
    assert to_ansi(datetime(1601, 1, 1, tzinfo=UTC)) == 1.0
    assert from_ansi(to_ansi(DATES[1])) == DATES[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("E(660000,661000)", Subset("E", "660000", "661000"), id="trim"),
        pytest.param("N(5170000)", Subset("N", "5170000", None, True), id="slice"),
        pytest.param('ansi("2017-01-14")', Subset("ansi", "2017-01-14", None, True), id="date"),
        pytest.param("E(*,661000)", Subset("E", None, "661000"), id="open-low"),
        pytest.param(
            "x,http://www.opengis.net/def/crs/EPSG/0/4326(16.1,16.5)",
            Subset("x", "16.1", "16.5", False, "http://www.opengis.net/def/crs/EPSG/0/4326"),
            id="draft-inline-crs",
        ),
    ],
)
def test_parse_subset(text: str, expected: Subset) -> None:
    assert parse_subset(text) == expected


@pytest.mark.parametrize("text", ["E", "E()", "E(1,2,3)", "E(,1)"])
def test_parse_subset_rejects(text: str) -> None:
    with pytest.raises(SubsetInvalid):
        parse_subset(text)


@pytest.mark.parametrize(
    ("request_", "bounds", "size"),
    [
        pytest.param(CoverageRequest(), (652000, 5161000, 672000, 5181000), (1000, 1000),
                     id="whole-native-grid"),
        pytest.param(CoverageRequest((Subset("E", "660005", "661000"),
                                      Subset("N", "5170000", "5170990"))),
                     (660000, 5170000, 661000, 5171000), (50, 50),
                     id="trim-grows-to-native-pixels"),
        pytest.param(CoverageRequest((Subset("E", "600000", "653000"),)),
                     (652000, 5161000, 653000, 5181000), (50, 1000), id="trim-clipped-to-extent"),
        pytest.param(CoverageRequest((Subset("N", "5170010", None, True),)),
                     (652000, 5170000, 672000, 5170020), (1000, 1), id="slice-keeps-one-row"),
        pytest.param(CoverageRequest((Subset("x", "660000", "661000"),), scale_factor="2"),
                     (660000, 5161000, 661000, 5181000), (25, 500), id="scalefactor-halves"),
        pytest.param(CoverageRequest(scale_size=("E(100),N(50)",)),
                     (652000, 5161000, 672000, 5181000), (100, 50), id="scalesize"),
        pytest.param(CoverageRequest(scale_axes=("E(4)",)),
                     (652000, 5161000, 672000, 5181000), (250, 1000), id="scaleaxes"),
        pytest.param(CoverageRequest(scale_extent=("i(0:9),j(0:19)",)),
                     (652000, 5161000, 672000, 5181000), (10, 20), id="scaleextent"),
    ],
)
def test_window_on_native_grid(
    minimum: Coverage, request_: CoverageRequest, bounds: tuple[float, ...], size: tuple[int, int]
) -> None:
    window = window_of(minimum, request_)
    assert window.crs == UTM
    assert window.bounds == pytest.approx(bounds, abs=1e-6)
    assert (window.width, window.height) == size


def test_window_in_subsetting_crs(minimum: Coverage) -> None:
    request_ = CoverageRequest(
        (Subset("Long", "11.0", "11.1"), Subset("Lat", "46.6", "46.7")),
        subsetting_crs="EPSG:4326",
        scale_size=("Long(200),Lat(100)",),
    )
    window = window_of(minimum, request_)  # output CRS defaults to the subsetting CRS
    assert window.crs == CRS.from_epsg(4326)
    assert window.bounds == pytest.approx((11.0, 46.6, 11.1, 46.7))
    assert (window.width, window.height) == (200, 100)


def test_window_subset_in_degrees_output_native(minimum: Coverage) -> None:
    request_ = CoverageRequest(
        (Subset("Long", "11.0", "11.1"), Subset("Lat", "46.6", "46.7")),
        subsetting_crs="EPSG:4326",
        output_crs="EPSG:32632",
    )
    window = window_of(minimum, request_)
    expected = transform_bounds("EPSG:4326", UTM, 11.0, 46.6, 11.1, 46.7, densify_pts=21)
    assert window.crs == UTM
    left, bottom, right, top = window.bounds
    assert left <= expected[0] < left + 20 and right - 20 < expected[2] <= right
    assert bottom <= expected[1] < bottom + 20 and top - 20 < expected[3] <= top
    assert (left - 652000) % 20 == 0 and (5181000 - top) % 20 == 0  # native pixels


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        pytest.param(CoverageRequest((Subset("E", "100", "200"),)), SubsetInvalid,
                     id="outside-extent"),
        pytest.param(CoverageRequest((Subset("E", "661000", "660000"),)), SubsetInvalid,
                     id="inverted"),
        pytest.param(CoverageRequest((Subset("height", "1", "2"),)), AxisLabelInvalid,
                     id="unknown-axis"),
        pytest.param(CoverageRequest((Subset("ansi", "2017-01-14", None, True),)),
                     AxisLabelInvalid, id="time-on-2d-coverage"),
        pytest.param(CoverageRequest((Subset("E", "1", "2"), Subset("E", "3", "4"))),
                     SubsetInvalid, id="axis-twice"),
        pytest.param(CoverageRequest(scale_factor="0"), ScaleInvalid, id="zero-factor"),
        pytest.param(CoverageRequest(scale_size=("h(10)",)), ScaleInvalid, id="scale-axis"),
        pytest.param(
            CoverageRequest((Subset("x", "16.1", "16.5", False, "EPSG:4326"),
                             Subset("y", "47.9", "48.6", False, "EPSG:4326"))),
            SubsetInvalid, id="draft-box-is-elsewhere",
        ),
    ],
)
def test_window_errors(minimum: Coverage, request_: CoverageRequest, error: type) -> None:
    with pytest.raises(error):
        window_of(minimum, request_)


@pytest.mark.parametrize(
    ("subset", "expected"),
    [
        pytest.param(Subset("ansi", "2017-01-14", None, True), DATES[1:2], id="slice-day"),
        pytest.param(Subset("ansi", str(to_ansi(DATES[2])), None, True), DATES[2:],
                     id="slice-ansi-number"),
        pytest.param(Subset("time", "2017-01-10", "2017-01-24"), DATES[1:], id="trim-iso"),
        pytest.param(Subset("ansi", None, "2017-01-04"), DATES[:1], id="trim-open-low"),
    ],
)
def test_time_subsets(series: Coverage, subset: Subset, expected: tuple[datetime, ...]) -> None:
    window = window_of(series, CoverageRequest((subset,)))
    assert window.times == expected


def test_time_errors(series: Coverage) -> None:
    with pytest.raises(SubsetInvalid, match="2017-01-04, 2017-01-14, 2017-01-24"):
        times_between(DATES, "2017-01-05", None, slice_=True)
    with pytest.raises(SubsetInvalid):
        times_between(DATES, "2017-02-01", "2017-03-01", slice_=False)


def test_wcs10_window_is_exactly_the_request(minimum: Coverage, series: Coverage) -> None:
    window = window_10(minimum, crs=WGS84, bbox=(11.0, 46.6, 11.1, 46.7), size=(50, 40))
    assert (window.crs, window.bounds, window.width, window.height) == (
        CRS.from_epsg(4326), (11.0, 46.6, 11.1, 46.7), 50, 40)
    window = window_10(minimum, crs=UTM, bbox=(660000, 5170000, 661000, 5171000),
                       resolution=(40.0, 40.0))
    assert (window.width, window.height) == (25, 25)
    assert times_10(series, "2017-01-14") == DATES[1:2]
    assert times_10(series, "2017-01-04,2017-01-24") == (DATES[0], DATES[2])
    assert times_10(series, "2017-01-10/2017-01-30") == DATES[1:]
    assert times_10(minimum, "2017-01-14") is None


def test_read_coverage_values_and_no_data(engine: Engine, minimum: Coverage) -> None:
    window = window_of(minimum, CoverageRequest((Subset("E", "660000", "660100"),
                                                   Subset("N", "5170000", "5170100"))))
    cube = read_coverage(engine, minimum, window)
    direct = engine.evaluate(minimum.layer.compiled, window)
    np.testing.assert_array_equal(cube.data.filled(np.nan), direct.data.filled(np.nan))
    beside = window_10(minimum, crs=WGS84, bbox=(16.1, 47.9, 16.5, 48.6), size=(20, 20))
    empty = read_coverage(engine, minimum, beside)
    assert empty.data.shape == (1, 1, 20, 20) and bool(np.ma.getmaskarray(empty.data).all())


def test_read_coverage_pixel_limit_before_reading(engine: Engine, series: Coverage) -> None:
    window = window_10(series, crs=UTM, bbox=(652000, 5161000, 672000, 5181000),
                       size=(1000, 1000))  # x 3 dates = 3,000,000 > 2,000,000
    with pytest.raises(PixelLimitExceeded, match="2,000,000"):
        read_coverage(engine, series, window)
