"""GeoTIFFs rendered to 8-bit RGB for compress=JPEG, read back with GDAL (rasterio)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rasterio.enums import ColorInterp, MaskFlags, PhotometricInterp

from ondemand.cube import Cube
from ondemand.errors import OutputOptionInvalid
from ondemand.formats import check_encodable, encode, parse_output
from ondemand.formats.colormaps import colormap_lut
from ondemand.formats.rendered import RENDERING_HEADER
from tests.formats.test_formats_gtiff import DATES, TRANSFORM, UTM, make_cube, opened

DRAFT = {"format": "GTiff", "tiled": True, "compress": "jpeg", "photometric": "YCBCR",
         "jpeg_quality": 80}


def smooth_ndvi(shape: tuple[int, int] = (64, 80)) -> np.ma.MaskedArray:
    """A gentle NDVI ramp (JPEG keeps it close) with a masked corner."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    values = (-0.8 + 1.6 * cols / (shape[1] - 1)).astype(np.float32)
    mask = (rows < 16) & (cols < 16)
    return np.ma.MaskedArray(values[None, None], mask=mask[None, None])


def expected_rgb(values: np.ndarray, low: float, high: float, cmap: str) -> np.ndarray:
    """The colormap's colours of ``values`` stretched from [low, high] to 0..255 (numpy)."""
    index = np.clip(np.rint((values - low) * 255.0 / (high - low)), 0, 255).astype(np.uint8)
    return np.moveaxis(colormap_lut(cmap)[index][..., :3], -1, 0)


def ndvi_cube(data: np.ma.MaskedArray) -> Cube:
    return Cube(data, None, ("ndvi",), UTM, TRANSFORM)


def test_float_ndvi_becomes_ycbcr_jpeg_with_a_mask_band() -> None:
    data = smooth_ndvi()
    encoded = encode(ndvi_cube(data), parse_output(DRAFT))
    assert encoded.headers[RENDERING_HEADER].startswith(
        "rendered to 8-bit RGB with colormap rdylgn over [-1, 1]")
    assert "compress=DEFLATE keeps the float32 values" in encoded.rendering  # type: ignore[operator]
    with opened(encoded.content) as src:
        assert src.count == 3 and src.dtypes == ("uint8",) * 3
        assert src.photometric == PhotometricInterp.ycbcr
        structure = src.tags(ns="IMAGE_STRUCTURE")
        assert (structure["COMPRESSION"], structure["JPEG_QUALITY"]) == ("YCbCr JPEG", "80")
        assert src.block_shapes == [(256, 256)] * 3
        assert (src.crs, src.transform, src.shape) == (UTM, TRANSFORM, (64, 80))
        assert src.mask_flag_enums == ([MaskFlags.per_dataset],) * 3
        np.testing.assert_array_equal(src.dataset_mask() == 0, data.mask[0, 0])
        rgb = src.read()
    want = expected_rgb(data.data[0, 0], -1.0, 1.0, "rdylgn")
    valid = ~data.mask[0, 0]
    assert np.abs(rgb.astype(int) - want.astype(int))[:, valid].max() <= 12
    assert (rgb[:, ~valid] == 0).all()  # no-data is black under the mask


def test_colormap_and_rescale_override_the_default_style() -> None:
    data = smooth_ndvi()
    spec = parse_output({**DRAFT, "colormap": "viridis", "rescale": [0, 0.5]})
    encoded = encode(ndvi_cube(data), spec)
    assert "colormap viridis over [0, 0.5]" in (encoded.rendering or "")
    with opened(encoded.content) as src:
        rgb = src.read()
    want = expected_rgb(data.data[0, 0], 0.0, 0.5, "viridis")
    valid = ~data.mask[0, 0]
    assert np.abs(rgb.astype(int) - want.astype(int))[:, valid].max() <= 12


def test_photometric_rgb_and_cog_are_honoured() -> None:
    cube = ndvi_cube(smooth_ndvi())
    rgb = encode(cube, parse_output({"compress": "jpeg", "photometric": "rgb"}))
    with opened(rgb.content) as src:
        assert src.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
        assert src.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "JPEG"  # not YCbCr
    encoded = encode(cube, parse_output({"compress": "jpeg", "cog": True}))
    with opened(encoded.content) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.count == 3 and src.photometric == PhotometricInterp.ycbcr


def test_rgb_uint8_is_written_as_is_without_rendering() -> None:
    cube = make_cube("uint8", bands=("r", "g", "b"), shape=(32, 32))
    encoded = encode(cube, parse_output(DRAFT))
    assert encoded.rendering is None and encoded.headers == {}


RENDER_CHECKS = [
    pytest.param(DRAFT, "float32", 1, 1, None, id="draft-float"),
    pytest.param(DRAFT, "uint16", 3, 1, None, id="draft-uint16-rgb"),
    pytest.param(DRAFT, "float32", 1, 3, "has 3 date(s) x 1 band(s)", id="three-dates"),
    pytest.param(DRAFT, "float32", 2, 1, "compress=DEFLATE", id="two-bands"),
    pytest.param({"compress": "jpeg", "photometric": "minisblack"}, "float32", 1, 1,
                 "photometric=MINISBLACK cannot describe", id="minisblack"),
    pytest.param({"compress": "jpeg", "colormap": "viridis"}, "float32", 3, 1,
                 "drop colormap", id="colormap-rgb"),
    pytest.param({"compress": "jpeg"}, "complex64", 1, 1, "cannot hold", id="complex"),
]


@pytest.mark.parametrize(("options", "dtype", "bands", "dates", "fragment"), RENDER_CHECKS)
def test_check_encodable_when_rendering(
    options: dict[str, object], dtype: str, bands: int, dates: int, fragment: str | None
) -> None:
    spec = parse_output(options)
    if fragment is None:
        check_encodable(spec, np.dtype(dtype), bands, date_count=dates, render=True)
    else:
        with pytest.raises(OutputOptionInvalid, match=re.escape(fragment)):
            check_encodable(spec, np.dtype(dtype), bands, date_count=dates, render=True)


def test_time_series_cannot_be_rendered_into_one_picture() -> None:
    cube = make_cube("float32", times=DATES)
    with pytest.raises(OutputOptionInvalid, match="reduce it"):
        encode(cube, parse_output(DRAFT))


def test_style_options_need_jpeg_in_a_geotiff() -> None:
    with pytest.raises(OutputOptionInvalid, match="only with compress=JPEG"):
        parse_output({"format": "GTiff", "rescale": [0, 1]})
