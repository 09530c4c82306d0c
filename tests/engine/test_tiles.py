"""Tile matrix sets, tile windows and tile rendering, checked against independent reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform
from rasterio.windows import from_bounds

from ondemand.catalog import Catalog
from ondemand.engine import CACHED, Engine
from ondemand.errors import (
    ArgumentInvalid,
    OutputFormatUnsupported,
    OutputOptionInvalid,
    TileOutOfRange,
)
from ondemand.formats import colormap_lut
from ondemand.layer import Layer, make_layer
from ondemand.settings import Settings
from ondemand.tiles import (
    native_tms,
    render_tile,
    tile_matrix_set,
    tile_style,
    tile_window,
    time_on_or_before,
    zoom_range,
)
from services.maps.tiles import parse_style
from tests.support.cogs import make_collection
from tests.support.layers import min_ndvi_layer, ndvi_series_layer, read_tif, series_graph

COLLECTION = "S2_L2A_T32TPS_20M"


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog, demo_data_dir: Path) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings(data_dir=demo_data_dir))
    yield eng
    eng.close()


def band_graph(band: str) -> dict[str, Any]:
    """One band of the seed's bbox and dates (a time series of raw reflectance)."""
    ndvi = series_graph()
    return {
        "process_id": "filter_bands",
        "args": {"imagery": ndvi["args"]["imagery"], "bands": [band]},
    }


@pytest.fixture(scope="module")
def min_ndvi(engine: Engine) -> Layer:
    return min_ndvi_layer(engine)


@pytest.fixture(scope="module")
def ndvi_series(engine: Engine) -> Layer:
    return ndvi_series_layer(engine)


def read_png(content: bytes) -> np.ndarray:
    with rasterio.MemoryFile(content) as mem, mem.open() as src:
        assert src.count == 4
        return src.read()


def centre_tile(layer: Layer, tms: morecantile.TileMatrixSet, z: int) -> morecantile.Tile:
    west, south, east, north = layer.bounds_wgs84
    return tms.tile((west + east) / 2, (south + north) / 2, z)


# -- tile matrix sets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("webmercator", "WebMercatorQuad"),
        ("GoogleMapsCompatible", "WebMercatorQuad"),
        ("EPSG:3857", "WebMercatorQuad"),
        ("webmercatorquad", "WebMercatorQuad"),
        ("WGS84", "WorldCRS84Quad"),
        ("crs84", "WorldCRS84Quad"),
        ("WorldCRS84Quad", "WorldCRS84Quad"),
        ("native", "UTM32N-20m"),
        ("utm32n-20m", "UTM32N-20m"),
    ],
)
def test_tile_matrix_set_aliases(min_ndvi: Layer, alias: str, expected: str) -> None:
    assert tile_matrix_set(min_ndvi, alias).id == expected


def test_unknown_tile_matrix_set_names_valid_ids(min_ndvi: Layer) -> None:
    with pytest.raises(ArgumentInvalid, match="WebMercatorQuad.*WorldCRS84Quad.*UTM32N-20m"):
        tile_matrix_set(min_ndvi, "EPSG:2056")


def test_tile_matrix_sets_are_built_once(min_ndvi: Layer) -> None:
    assert tile_matrix_set(min_ndvi, "native") is native_tms(min_ndvi)
    assert tile_matrix_set(min_ndvi, "webmercator") is tile_matrix_set(min_ndvi, "EPSG:3857")


def test_native_tms_grid(min_ndvi: Layer) -> None:
    tms = native_tms(min_ndvi)
    left, bottom, right, top = min_ndvi.native_bounds
    finest = tms.matrix(tms.maxzoom)
    assert finest.cellSize == 20.0
    assert tuple(finest.pointOfOrigin) == (left, top)
    coarsest = tms.matrix(tms.minzoom)
    assert (coarsest.matrixWidth, coarsest.matrixHeight) == (1, 1)
    assert coarsest.cellSize * 256 >= max(right - left, top - bottom)
    assert tms.matrix(tms.maxzoom - 1).cellSize == 40.0
    # the source's pixel grid: origin on whole 20 m pixels of the collection
    assert left % 20 == 0 and top % 20 == 0


@pytest.mark.parametrize(
    ("tms_id", "expected"),
    [("webmercator", (10, 13)), ("native", (0, 2)), ("WGS84", (9, 12))],
)
def test_zoom_range(min_ndvi: Layer, tms_id: str, expected: tuple[int, int]) -> None:
    tms = tile_matrix_set(min_ndvi, tms_id)
    assert zoom_range(min_ndvi, tms) == expected
    # maxzoom is at least as fine as 20 m on the ground, the level above is coarser
    lat = np.radians(46.67)
    ground = tms.matrix(expected[1]).cellSize * (np.cos(lat) if tms_id == "webmercator" else 1)
    if tms_id != "WGS84":
        assert ground <= 20.0 < ground * 2


@pytest.mark.parametrize(
    ("z", "x", "y"),
    [
        pytest.param(-1, 0, 0, id="negative-zoom"),
        pytest.param(25, 0, 0, id="zoom-above-24"),
        pytest.param(2**31, 0, 0, id="huge-zoom"),
        pytest.param(1, 2, 0, id="column-past-end"),
        pytest.param(1, 0, 2, id="row-past-end"),
        pytest.param(12, 2**31, 0, id="huge-column"),
        pytest.param(12, 0, 2**31, id="huge-row"),
        pytest.param(3, -1, 0, id="negative-column"),
        pytest.param(3, 0, -1, id="negative-row"),
    ],
)
def test_tile_out_of_range(z: int, x: int, y: int) -> None:
    tms = morecantile.tms.get("WebMercatorQuad")
    with pytest.raises(TileOutOfRange):
        tile_window(tms, z, x, y)


@pytest.mark.parametrize(("z", "x", "y"), [(2, 4, 0), (0, 1, 0), (3, 0, 4)])
def test_native_tile_out_of_range(min_ndvi: Layer, z: int, x: int, y: int) -> None:
    with pytest.raises(TileOutOfRange):
        tile_window(native_tms(min_ndvi), z, x, y)


def test_tile_window_is_exact_tile() -> None:
    tms = morecantile.tms.get("WebMercatorQuad")
    window = tile_window(tms, 12, 2180, 1450)
    expected = tms.xy_bounds(morecantile.Tile(2180, 1450, 12))
    assert window.bounds == tuple(expected)
    assert (window.width, window.height, window.crs.to_epsg()) == (256, 256, 3857)


# -- rendering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tms_id", "z"),
    [("webmercator", 13), ("webmercator", 10), ("native", 2), ("native", 0), ("WGS84", 12)],
)
def test_tif_tile_equals_evaluation(engine: Engine, min_ndvi: Layer, tms_id: str, z: int) -> None:
    tms = tile_matrix_set(min_ndvi, tms_id)
    t = centre_tile(min_ndvi, tms, z) if tms_id != "native" else morecantile.Tile(1, 1, z)
    if z == 0:
        t = morecantile.Tile(0, 0, 0)
    result = render_tile(engine, min_ndvi, tms, z, t.x, t.y, "tif")
    expected = engine.evaluate(min_ndvi.compiled, tile_window(tms, z, t.x, t.y), policy=CACHED)
    got = read_tif(result.content)
    assert got.shape == (1, 256, 256)
    np.testing.assert_array_equal(got.mask, np.ma.getmaskarray(expected.data[0]))
    np.testing.assert_array_equal(got.filled(np.nan), expected.data[0].filled(np.nan))
    assert result.media_type.startswith("image/tiff")
    assert 0 < got.count() and -1 <= got.min() <= got.max() <= 1


def test_png_alpha_is_nodata_mask_and_colors_rdylgn(engine: Engine, min_ndvi: Layer) -> None:
    tms = tile_matrix_set(min_ndvi, "webmercator")
    left, _, _, top = min_ndvi.native_bounds
    (lon,), (lat,) = transform(min_ndvi.native_crs, "EPSG:4326", [left + 50], [top - 50])
    t = tms.tile(lon, lat, 12)  # holds the layer's north-west corner: partly outside
    result = render_tile(engine, min_ndvi, tms, 12, t.x, t.y, "png")
    cube = engine.evaluate(min_ndvi.compiled, tile_window(tms, 12, t.x, t.y), policy=CACHED)
    mask = np.ma.getmaskarray(cube.data[0, 0])
    rgba = read_png(result.content)
    assert mask.any() and not mask.all()
    np.testing.assert_array_equal(rgba[3] == 0, mask)
    np.testing.assert_array_equal(rgba[3][~mask], 255)
    index = np.rint(np.clip((cube.data[0, 0].filled(0) + 1.0) * 127.5, 0, 255)).astype(int)
    lut = colormap_lut("rdylgn")
    for channel in range(3):
        np.testing.assert_array_equal(rgba[channel][~mask], lut[index, channel][~mask])


@pytest.mark.parametrize(
    ("colormap", "rescale", "channel_low_high"),
    [
        pytest.param("gray", "0,0.5", (0, 255), id="gray-0-0.5"),
        pytest.param("viridis", "-1,1", None, id="viridis"),
        pytest.param(None, ["-0.2,0.8"], None, id="rescale-only"),
    ],
)
def test_explicit_style_overrides_default(
    engine: Engine,
    min_ndvi: Layer,
    colormap: str | None,
    rescale: Any,
    channel_low_high: tuple[int, int] | None,
) -> None:
    tms = tile_matrix_set(min_ndvi, "native")
    style = parse_style(colormap, rescale, None)
    styled = render_tile(engine, min_ndvi, tms, 2, 1, 1, "png", None, style)
    default = render_tile(engine, min_ndvi, tms, 2, 1, 1, "png")
    assert styled.etag != default.etag
    cube = engine.evaluate(min_ndvi.compiled, tile_window(tms, 2, 1, 1), policy=CACHED)
    values = cube.data[0, 0]
    low, high = (float(v) for v in (rescale if isinstance(rescale, str) else rescale[0]).split(","))
    index = np.rint(np.clip((values.filled(0) - low) * 255 / (high - low), 0, 255)).astype(int)
    lut = colormap_lut(colormap or "rdylgn")
    rgba = read_png(styled.content)
    valid = ~np.ma.getmaskarray(values)
    np.testing.assert_array_equal(rgba[0][valid], lut[index, 0][valid])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"fmt": "webp"}, OutputFormatUnsupported, id="format"),
        pytest.param({"colormap": "nope"}, OutputOptionInvalid, id="colormap"),
        pytest.param({"rescale": "1,0"}, OutputOptionInvalid, id="rescale-inverted"),
        pytest.param({"rescale": "a,b"}, OutputOptionInvalid, id="rescale-text"),
        pytest.param({"bands": "2"}, OutputOptionInvalid, id="band-number"),
        pytest.param({"bands": "B99"}, OutputOptionInvalid, id="band-name"),
        pytest.param({"bands": "1,1"}, OutputOptionInvalid, id="two-bands"),
    ],
)
def test_invalid_options(
    engine: Engine, min_ndvi: Layer, kwargs: dict[str, Any], error: type
) -> None:
    tms = tile_matrix_set(min_ndvi, "native")
    fmt = kwargs.pop("fmt", "png")
    with pytest.raises(error):  # the query's parsing (services) or the engine's checks
        style = parse_style(kwargs.get("colormap"), kwargs.get("rescale"), kwargs.get("bands"))
        render_tile(engine, min_ndvi, tms, 2, 1, 1, fmt, None, style)


def test_jpeg_tile(engine: Engine, min_ndvi: Layer) -> None:
    tms = tile_matrix_set(min_ndvi, "native")
    result = render_tile(engine, min_ndvi, tms, 2, 1, 1, "jpg", style=tile_style(bands=[1]))
    assert result.media_type == "image/jpeg" and result.content[:2] == b"\xff\xd8"


def test_tile_outside_layer_is_empty_without_reading(
    engine: Engine, min_ndvi: Layer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tms = tile_matrix_set(min_ndvi, "webmercator")
    render_tile(engine, min_ndvi, tms, 12, 0, 0, "png")  # decide the layer's style first

    def no_reads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an empty tile must not evaluate")

    monkeypatch.setattr(engine, "evaluate", no_reads)
    png = read_png(render_tile(engine, min_ndvi, tms, 12, 0, 0, "png").content)
    assert png.shape == (4, 256, 256) and (png[3] == 0).all()
    tif = read_tif(render_tile(engine, min_ndvi, tms, 3, 0, 0, "tif").content)
    assert tif.mask.all()


def test_native_finest_zoom_reads_source_pixels_unmoved(engine: Engine) -> None:
    layer = make_layer("b04", "B04", engine.compile(band_graph("B04")))
    assert layer.times is not None
    tms = native_tms(layer)
    z, x, y = tms.maxzoom, 1, 2
    date = layer.times[0]
    result = render_tile(engine, layer, tms, z, x, y, "tif", date.date().isoformat())
    got = read_tif(result.content)[0]
    collection = engine.catalog.get(COLLECTION)
    item = next(i for i in collection.items if i.datetime == date)
    band = collection.band("B04")
    bounds = tile_window(tms, z, x, y).bounds
    with rasterio.open(item.assets["B04"].href) as src:
        window = from_bounds(*bounds, transform=src.transform)
        assert window.col_off == int(window.col_off) and window.row_off == int(window.row_off)
        raw = src.read(1, window=window.round_offsets().round_lengths(), masked=True)
    expected = raw.astype(np.float32) * np.float32(band.scale) + np.float32(band.offset)
    np.testing.assert_array_equal(got.mask, np.ma.getmaskarray(raw))
    np.testing.assert_array_equal(got.compressed(), expected.compressed())


def test_low_zoom_reads_overviews(tmp_path: Path) -> None:
    """A marker-valued external overview shows in coarse tiles, the full data in fine ones."""
    full = np.full((1024, 1024), 1000, np.uint16)
    transform = Affine(20.0, 0, 600000.0, 0, -20.0, 5200000.0)
    path = make_collection(
        tmp_path / "ovr",
        [("a", datetime(2020, 1, 1, tzinfo=UTC), {"B1": (full, 0, 1.0, 0.0)})],
        32632,
        transform,
        collection_id="OVR",
    )
    href = next((tmp_path / "ovr").rglob("*.tif"))
    profile = {"driver": "GTiff", "width": 256, "height": 256, "count": 1, "dtype": "uint16"}
    with rasterio.open(f"{href}.ovr", "w", **profile) as ovr:
        ovr.write(np.full((1, 256, 256), 3000, np.uint16))
    catalog = Catalog.load([path])
    eng = Engine(catalog, Settings(data_dir=tmp_path))
    try:
        graph = {
            "process_id": "filter_bands",
            "args": {"imagery": {"product_id": "OVR"}, "bands": ["B1"]},
        }
        layer = make_layer("ovr", "OVR", eng.compile(graph))
        tms = native_tms(layer)
        assert (tms.minzoom, tms.maxzoom) == (0, 2)
        coarse = read_tif(render_tile(eng, layer, tms, 0, 0, 0, "tif").content)
        fine = read_tif(render_tile(eng, layer, tms, 2, 1, 1, "tif").content)
    finally:
        eng.close()
    assert set(np.unique(coarse.compressed())) == {3000.0}
    assert set(np.unique(fine.compressed())) == {1000.0}


# -- time ----------------------------------------------------------------------------------


def test_time_series_default_is_latest(engine: Engine, ndvi_series: Layer) -> None:
    assert ndvi_series.times is not None and len(ndvi_series.times) >= 3
    tms = tile_matrix_set(ndvi_series, "native")
    latest = ndvi_series.times[-1]
    by_default = render_tile(engine, ndvi_series, tms, 2, 1, 1, "tif")
    by_word = render_tile(engine, ndvi_series, tms, 2, 1, 1, "tif", "latest")  # {Time}: HTTP
    by_date = render_tile(engine, ndvi_series, tms, 2, 1, 1, "tif", latest.date().isoformat())
    assert by_default.content == by_word.content == by_date.content
    first = ndvi_series.times[0]
    older = render_tile(engine, ndvi_series, tms, 2, 1, 1, "tif", first.isoformat())
    window = tile_window(tms, 2, 1, 1, (first,))
    expected = engine.evaluate(ndvi_series.compiled, window, policy=CACHED)
    np.testing.assert_array_equal(
        read_tif(older.content).filled(np.nan), expected.data[0].filled(np.nan)
    )
    assert older.etag != by_default.etag


@pytest.mark.parametrize("value", ["2016-05-05", "2017-01-05", "yesterday", "2017-13-01"])
def test_unknown_time_is_invalid(engine: Engine, ndvi_series: Layer, value: str) -> None:
    tms = tile_matrix_set(ndvi_series, "native")
    with pytest.raises(ArgumentInvalid):
        render_tile(engine, ndvi_series, tms, 2, 1, 1, "png", value)


@pytest.mark.parametrize(
    ("text", "expected_day"),
    [
        pytest.param("2017-01-04", "2017-01-04", id="exact"),
        pytest.param("2017-01-20", "2017-01-14", id="between"),
        pytest.param("2017-01-24T23:59:59Z", "2017-01-24", id="datetime"),
        pytest.param("2030-01-01", "last", id="after-all"),
    ],
)
def test_time_on_or_before(ndvi_series: Layer, text: str, expected_day: str) -> None:
    assert ndvi_series.times is not None
    label = time_on_or_before(ndvi_series, text)
    assert label is not None
    want = ndvi_series.times[-1].date().isoformat() if expected_day == "last" else expected_day
    assert label[:10] == want
    assert ndvi_series.select_time(label) is not None


@pytest.mark.parametrize("text", ["2017-01-01", "2016-12-31", "not-a-date"])
def test_time_on_or_before_invalid(ndvi_series: Layer, text: str) -> None:
    with pytest.raises(ArgumentInvalid):
        time_on_or_before(ndvi_series, text)


def test_time_ignored_for_layer_without_time(min_ndvi: Layer) -> None:
    assert time_on_or_before(min_ndvi, "2017-01-01") is None
    with pytest.raises(ArgumentInvalid):
        time_on_or_before(min_ndvi, "2017-1-1x")


def test_png_is_decodable(engine: Engine, min_ndvi: Layer) -> None:
    content = render_tile(engine, min_ndvi, tile_matrix_set(min_ndvi, "native"), 1, 0, 0).content
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert io.BytesIO(content).getbuffer().nbytes > 100
