from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import MaskFlags
from rasterio.io import DatasetReader, MemoryFile

from ondemand.cube import Cube
from ondemand.formats import encode, parse_output

UTM = CRS.from_epsg(32632)
TRANSFORM = Affine(20.0, 0.0, 652000.0, 0.0, -20.0, 5181000.0)
DATES = (datetime(2017, 1, 3, 10, 20), datetime(2017, 1, 13, 10, 20), datetime(2017, 1, 23))


def make_cube(
    dtype: str = "float32",
    bands: tuple[str, ...] = ("ndvi",),
    times: tuple[datetime, ...] | None = None,
    shape: tuple[int, int] = (6, 7),
    seed: int = 0,
) -> Cube:
    """A cube of random values of ``dtype`` with a diagonal and a random mask."""
    rng = np.random.default_rng(seed)
    n_t = 1 if times is None else len(times)
    full = (n_t, len(bands), *shape)
    if np.dtype(dtype).kind == "f":
        values = rng.uniform(-1, 1, full).astype(dtype)
    elif np.dtype(dtype).kind == "b":
        values = rng.integers(0, 2, full).astype(bool)
    else:
        info = np.iinfo(dtype)
        values = rng.integers(max(info.min, -1000), min(info.max, 1000), full).astype(dtype)
    mask = rng.random(full) < 0.2
    mask[..., 0, 0] = True
    mask[..., -1, -1] = False
    return Cube(np.ma.MaskedArray(values, mask=mask), times, bands, UTM, TRANSFORM)


@contextmanager
def opened(content: bytes) -> Iterator[DatasetReader]:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        yield dataset


def file_view(cube: Cube) -> np.ma.MaskedArray:
    """The cube as the (date x band, y, x) stack a GeoTIFF holds."""
    n_t, n_b, height, width = cube.data.shape
    return cube.data.reshape(n_t * n_b, height, width)


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "uint8", "int8", "uint16", "int16", "int32", "uint32", "bool"]
)
def test_values_mask_dtype_and_grid_round_trip(dtype: str) -> None:
    cube = make_cube(dtype, bands=("a", "b"))
    encoded = encode(cube, parse_output({"format": "GTiff"}))
    assert (encoded.media_type, encoded.filename) == (
        "image/tiff; application=geotiff",
        "result.tif",
    )
    with opened(encoded.content) as src:
        written = src.read(masked=True)
        expected = file_view(cube)
        assert src.dtypes[0] == ("uint8" if dtype == "bool" else dtype)
        assert src.crs == UTM
        assert src.transform == TRANSFORM
        assert (src.width, src.height, src.count) == (7, 6, 2)
        assert src.descriptions == ("a", "b")
        np.testing.assert_array_equal(np.ma.getmaskarray(written), np.ma.getmaskarray(expected))
        np.testing.assert_array_equal(
            written.compressed(), expected.compressed().astype(src.dtypes[0])
        )
        if dtype.startswith("float"):
            assert np.isnan(src.nodata)
        else:
            assert src.nodata is not None
            assert src.nodata not in expected.compressed()


def test_float16_is_written_as_float32() -> None:
    cube = make_cube("float16")
    with opened(encode(cube, parse_output(None)).content) as src:
        assert src.dtypes[0] == "float32"
        np.testing.assert_array_equal(src.read(1, masked=True), cube.data[0, 0].astype("float32"))


@pytest.mark.parametrize(
    ("dtype", "expected_nodata"),
    [("uint8", 255), ("uint16", 65535), ("int16", -32768), ("int32", -(2**31))],
)
def test_integer_nodata_is_the_free_extreme(dtype: str, expected_nodata: int) -> None:
    with opened(encode(make_cube(dtype), parse_output(None)).content) as src:
        assert src.nodata == expected_nodata


def test_integer_nodata_moves_when_the_extreme_is_data() -> None:
    cube = make_cube("uint8")
    data = cube.data.copy()
    data[0, 0, -1, -1] = 255
    data[0, 0, -1, -2] = 0
    cube = cube.with_data(data)
    with opened(encode(cube, parse_output(None)).content) as src:
        assert src.nodata == 254
        assert src.read(1)[-1, -1] == 255
        np.testing.assert_array_equal(src.read(1, masked=True).mask, data.mask[0, 0])


def full_range_uint8(same_masks: bool) -> Cube:
    values = np.tile(np.arange(256, dtype=np.uint8).reshape(16, 16), (1, 2, 1, 1))
    values = np.concatenate([values, values], axis=2)  # 32 x 16, every value twice
    mask = np.zeros(values.shape, dtype=bool)
    mask[:, :, :16, :] = False
    mask[:, :, 16:18, :] = True  # hides the second copy of values 0..31 only
    if not same_masks:
        mask[:, 1, 20, 3] = True
    return Cube(np.ma.MaskedArray(values, mask=mask), None, ("r", "g"), UTM, TRANSFORM)


def test_full_range_uint8_with_equal_masks_uses_a_mask_band() -> None:
    cube = full_range_uint8(same_masks=True)
    with opened(encode(cube, parse_output(None)).content) as src:
        assert src.nodata is None
        assert src.dtypes[0] == "uint8"
        assert src.mask_flag_enums[0] == [MaskFlags.per_dataset]
        written = src.read(masked=True)
        np.testing.assert_array_equal(written.mask, cube.data.mask[0])
        np.testing.assert_array_equal(written.compressed(), cube.data[0].compressed())


def test_full_range_uint8_with_different_masks_widens_to_uint16() -> None:
    cube = full_range_uint8(same_masks=False)
    with opened(encode(cube, parse_output(None)).content) as src:
        assert (src.dtypes[0], src.nodata) == ("uint16", 65535)
        written = src.read(masked=True)
        np.testing.assert_array_equal(written.mask, cube.data.mask[0])
        np.testing.assert_array_equal(written.compressed(), cube.data[0].compressed())


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        pytest.param(
            ("ndvi",),
            ("2017-01-03T10:20:00", "2017-01-13T10:20:00", "2017-01-23T00:00:00"),
            id="one-band",
        ),
        pytest.param(
            ("B04", "B08"),
            (
                "2017-01-03T10:20:00 B04",
                "2017-01-03T10:20:00 B08",
                "2017-01-13T10:20:00 B04",
                "2017-01-13T10:20:00 B08",
                "2017-01-23T00:00:00 B04",
                "2017-01-23T00:00:00 B08",
            ),
            id="two-bands",
        ),
    ],
)
def test_time_cube_writes_one_band_per_date_and_band(
    bands: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    cube = make_cube("float32", bands=bands, times=DATES)
    with opened(encode(cube, parse_output(None)).content) as src:
        assert src.descriptions == expected
        assert src.tags(len(expected)) == {"band": bands[-1], "datetime": DATES[-1].isoformat()}
        written = src.read(masked=True)
        np.testing.assert_array_equal(written.mask, file_view(cube).mask)
        np.testing.assert_array_equal(written.compressed(), file_view(cube).compressed())


@pytest.mark.parametrize(
    ("options", "compression", "predictor", "blocks", "tiled"),
    [
        pytest.param({}, "deflate", None, None, False, id="default-deflate-stripped"),
        pytest.param({"compress": "none"}, None, None, None, False, id="none"),
        pytest.param({"compress": "lzw", "predictor": 3}, "lzw", "3", None, False, id="lzw-p3"),
        pytest.param({"compress": "zstd", "predictor": 2}, "zstd", "2", None, False, id="zstd-p2"),
        pytest.param(
            {"compress": "deflate", "zlevel": 9, "tiles": True}, "deflate", None, 256, True, id="t"
        ),
        pytest.param(
            {"tiled": True, "blockxsize": 512, "blockysize": 512},
            "deflate",
            None,
            512,
            True,
            id="512",
        ),
    ],
)
def test_compression_predictor_and_tiling_tags(
    options: dict[str, object],
    compression: str | None,
    predictor: str | None,
    blocks: int | None,
    tiled: bool,
) -> None:
    cube = make_cube("float32")
    with opened(encode(cube, parse_output(options)).content) as src:
        assert src.profile.get("compress") == compression
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == predictor
        assert src.profile["tiled"] is tiled
        if blocks is not None:
            assert src.block_shapes[0] == (blocks, blocks)
        np.testing.assert_array_equal(src.read(1, masked=True), cube.data[0, 0])


def rgb_uint8() -> Cube:
    ramp = np.linspace(0, 255, 64 * 64).reshape(64, 64).astype(np.uint8)
    values = np.stack([ramp, ramp.T, np.full_like(ramp, 128)])[np.newaxis]
    mask = np.zeros(values.shape, dtype=bool)
    mask[0, :, :8, :8] = True
    mask[0, 2, 40, 40] = True  # one band only: masked in the file (union)
    return Cube(np.ma.MaskedArray(values, mask=mask), None, ("r", "g", "b"), UTM, TRANSFORM)


def test_draft_example_writes_ycbcr_jpeg_for_rgb_uint8() -> None:
    cube = rgb_uint8()
    spec = parse_output(
        {
            "format": "GTiff",
            "tiled": True,
            "compress": "jpeg",
            "photometric": "YCBCR",
            "jpeg_quality": 80,
        }
    )
    with opened(encode(cube, spec).content) as src:
        structure = src.tags(ns="IMAGE_STRUCTURE")
        assert structure["COMPRESSION"] == "YCbCr JPEG"
        assert structure["JPEG_QUALITY"] == "80"
        assert src.block_shapes[0] == (256, 256)
        written = src.read(masked=True)
        union = cube.data.mask[0].any(axis=0)
        np.testing.assert_array_equal(written.mask, np.broadcast_to(union, written.shape))
        difference = np.abs(written.astype(int) - cube.data[0].astype(int))
        assert difference.max() <= 12  # lossy, but close


def test_cog_layout_and_options() -> None:
    cube = make_cube("float32", shape=(600, 700))
    spec = parse_output(
        {"cog": True, "compress": "zstd", "predictor": 3, "blockxsize": 512, "blockysize": 512}
    )
    encoded = encode(cube, spec)
    assert encoded.media_type.endswith("profile=cloud-optimized")
    with opened(encoded.content) as src:
        structure = src.tags(ns="IMAGE_STRUCTURE")
        assert (structure["LAYOUT"], structure["COMPRESSION"], structure["PREDICTOR"]) == (
            "COG",
            "ZSTD",
            "3",
        )
        assert src.block_shapes[0] == (512, 512)
        assert src.overviews(1) == [2]
        assert np.isnan(src.nodata)
        np.testing.assert_array_equal(src.read(1, masked=True), cube.data[0, 0])
        assert src.transform == TRANSFORM
