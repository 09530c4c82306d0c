from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import DatasetReader, MemoryFile
from rio_tiler.colormap import cmap

from ondemand.cube import Cube
from ondemand.errors import OutputOptionInvalid
from ondemand.formats import (
    colormap_names,
    default_style,
    encode,
    legend,
    parse_output,
    render_image,
)

UTM = CRS.from_epsg(32632)
TRANSFORM = Affine(20.0, 0.0, 652000.0, 0.0, -20.0, 5181000.0)


@contextmanager
def opened(content: bytes) -> Iterator[DatasetReader]:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        yield dataset


def color(name: str, index: int) -> tuple[int, ...]:
    """The registry's own RGB color at ``index`` (independent of our lookup tables)."""
    return tuple(int(c) for c in cmap.get(name)[index][:3])


def ndvi_band() -> np.ma.MaskedArray:
    values = np.linspace(-1, 1, 16 * 16, dtype=np.float32).reshape(1, 16, 16)
    values[0, 0, 0], values[0, -1, -1] = -1.0, 1.0
    mask = np.zeros(values.shape, dtype=bool)
    mask[0, 5:9, 3:12] = True
    return np.ma.MaskedArray(values, mask=mask)


def test_png_is_rgba_with_alpha_equal_to_the_mask() -> None:
    data = ndvi_band()
    with opened(render_image(data, "png")) as src:
        assert (src.driver, src.count) == ("PNG", 4)
        alpha = src.read(4)
        np.testing.assert_array_equal(alpha == 0, data.mask[0])
        np.testing.assert_array_equal(alpha[~data.mask[0]], 255)


@pytest.mark.parametrize(
    ("colormap", "rescale"),
    [
        pytest.param(None, None, id="ndvi-default-rdylgn"),
        pytest.param("viridis", [(-1.0, 1.0)], id="viridis"),
        pytest.param("RdBu_r", [(-1.0, 1.0)], id="case-insensitive-reversed"),
    ],
)
def test_colormap_endpoint_colors(
    colormap: str | None, rescale: list[tuple[float, float]] | None
) -> None:
    with opened(render_image(ndvi_band(), "png", colormap, rescale)) as src:
        rgb = src.read((1, 2, 3))
    name = (colormap or "rdylgn").lower()
    assert tuple(int(v) for v in rgb[:, 0, 0]) == color(name, 0)
    assert tuple(int(v) for v in rgb[:, -1, -1]) == color(name, 255)


def test_rdylgn_endpoints_are_red_and_green() -> None:
    with opened(render_image(ndvi_band(), "png")) as src:
        rgb = src.read((1, 2, 3))
    assert tuple(rgb[:, 0, 0]) == (165, 0, 38)
    assert tuple(rgb[:, -1, -1]) == (0, 104, 55)


def test_non_ndvi_single_band_is_a_grayscale_min_max_stretch() -> None:
    values = np.arange(20 * 10, dtype=np.int16).reshape(1, 20, 10) * 7 - 300
    data = np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool))
    assert default_style(data) == (None, [(-300.0, 1093.0)])
    with opened(render_image(data, "png")) as src:
        rgb = src.read((1, 2, 3)).astype(int)
    expected = np.rint((values[0] + 300) / 1393 * 255)
    np.testing.assert_array_equal(rgb[0], expected)
    np.testing.assert_array_equal(rgb[0], rgb[1])
    np.testing.assert_array_equal(rgb[0], rgb[2])


def test_non_finite_values_are_masked() -> None:
    values = np.array([[[0.0, np.nan, 0.5, np.inf]]], dtype=np.float32)
    data = np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool))
    with opened(render_image(data, "png", "gray", [(0.0, 1.0)])) as src:
        assert src.read(4).tolist() == [[255, 0, 255, 0]]
        assert src.read(1)[0, [0, 2]].tolist() == [0, 128]


def test_explicit_rescale_clips() -> None:
    values = np.array([[[0.0, 50.0, 100.0, 200.0]]], dtype=np.float32)
    data = np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool))
    with opened(render_image(data, "png", "gray", [(0.0, 100.0)])) as src:
        assert src.read(1).tolist() == [[0, 128, 255, 255]]


def rgb_data(dtype: str) -> np.ma.MaskedArray:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 255 if dtype == "uint8" else 10000, (3, 32, 32)).astype(dtype)
    mask = np.zeros(values.shape, dtype=bool)
    mask[1, 4, 4] = True
    return np.ma.MaskedArray(values, mask=mask)


def test_rgb_uint8_is_shown_as_is() -> None:
    data = rgb_data("uint8")
    with opened(render_image(data, "png")) as src:
        written = src.read()
    np.testing.assert_array_equal(written[:3][:, ~data.mask[1]], data.data[:, ~data.mask[1]])
    assert written[3, 4, 4] == 0


def test_rgb_uint16_default_is_a_common_2_98_percentile_stretch() -> None:
    data = rgb_data("uint16")
    low, high = np.percentile(data.compressed(), [2, 98])
    expected = np.clip(np.rint((data.data.astype(np.float64) - low) / (high - low) * 255), 0, 255)
    with opened(render_image(data, "png")) as src:
        written = src.read((1, 2, 3)).astype(int)
    assert np.abs(written - expected).max() <= 1  # float32 arithmetic in the renderer


def test_jpeg_is_rgb_with_masked_pixels_black() -> None:
    values = np.full((3, 64, 64), 200, dtype=np.uint8)
    mask = np.zeros(values.shape, dtype=bool)
    mask[:, :32, :] = True
    with opened(render_image(np.ma.MaskedArray(values, mask=mask), "jpeg")) as src:
        assert (src.driver, src.count) == ("JPEG", 3)
        written = src.read().astype(int)
    assert written[:, :24].max() <= 3
    assert np.abs(written[:, 40:] - 200).max() <= 3


@pytest.mark.parametrize(
    ("data", "colormap", "fragment"),
    [
        pytest.param(np.ma.zeros((2, 4, 4)), None, "1 band", id="two-bands"),
        pytest.param(np.ma.zeros((3, 4, 4)), "viridis", "drop colormap", id="rgb-colormap"),
        pytest.param(np.ma.zeros((1, 4, 4)), "not-a-map", "'not-a-map'", id="unknown-colormap"),
    ],
)
def test_render_image_errors(data: np.ma.MaskedArray, colormap: str | None, fragment: str) -> None:
    with pytest.raises(OutputOptionInvalid, match=fragment):
        render_image(data, "png", colormap)


def test_legend_stops_match_rendered_colors() -> None:
    stops = legend("viridis", (0.0, 10.0), stops=6)
    assert [s["value"] for s in stops] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    values = np.array([[[s["value"] for s in stops]]], dtype=np.float32)
    data = np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool))
    with opened(render_image(data, "png", "viridis", [(0.0, 10.0)])) as src:
        rendered = src.read()[:, 0, :]
    for stop, column in zip(stops, rendered.T, strict=True):
        assert stop["rgba"] == tuple(int(v) for v in column)
        assert stop["color"] == "#{:02x}{:02x}{:02x}".format(*stop["rgba"][:3])
    assert stops[0]["rgba"][:3] == color("viridis", 0)


def test_colormap_names() -> None:
    names = colormap_names()
    assert {"rdylgn", "viridis", "gray"} <= set(names)
    assert names == sorted(names)


def time_cube() -> Cube:
    values = np.zeros((2, 2, 8, 8), dtype=np.float32)
    values[0] = -1.0  # first date: red everywhere
    values[1] = 1.0  # last date: green everywhere
    data = np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool))
    data.mask[1, 1, 0, 0] = True  # masked in band "b" of the last date only
    return Cube(data, (datetime(2020, 1, 1), datetime(2020, 2, 1)), ("a", "b"), UTM, TRANSFORM)


@pytest.mark.parametrize(
    ("options", "alpha00"),
    [
        pytest.param({"format": "png", "bands": ["a"]}, 255, id="by-name"),
        pytest.param({"format": "PNG", "bands": 2}, 0, id="by-number"),
    ],
)
def test_encode_png_renders_the_last_date_of_the_picked_band(
    options: dict[str, object], alpha00: int
) -> None:
    encoded = encode(time_cube(), parse_output(options))
    assert (encoded.media_type, encoded.filename) == ("image/png", "result.png")
    with opened(encoded.content) as src:
        rgba = src.read()
    assert tuple(rgba[:3, 3, 3]) == color("rdylgn", 255)
    assert rgba[3, 0, 0] == alpha00


def test_encode_jpeg_with_quality() -> None:
    spec = parse_output({"format": "jpg", "bands": ["a"], "jpeg_quality": 95})
    encoded = encode(time_cube(), spec)
    assert (encoded.media_type, encoded.filename) == ("image/jpeg", "result.jpg")
    with opened(encoded.content) as src:
        assert src.count == 3
        assert np.abs(src.read(2).astype(int) - color("rdylgn", 255)[1]).max() <= 3


def test_encode_picks_an_unknown_band() -> None:
    with pytest.raises(OutputOptionInvalid, match="'nir'.*bands a, b"):
        encode(time_cube(), parse_output({"format": "png", "bands": ["nir"]}))


def test_encode_png_of_four_bands_asks_for_bands() -> None:
    cube = time_cube()
    four = Cube(
        np.ma.concatenate([cube.data, cube.data], axis=1),
        cube.times,
        ("a", "b", "c", "d"),
        UTM,
        TRANSFORM,
    )
    with pytest.raises(OutputOptionInvalid, match="has 4; pick them with bands"):
        encode(four, parse_output({"format": "png"}))
