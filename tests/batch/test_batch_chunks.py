"""Chunking a batch output window, and the file layout of chunk values."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from ondemand.batch.chunks import split_window
from ondemand.batch.layout import batch_spec, file_values, layout_for
from ondemand.cube import Cube
from ondemand.errors import OutputOptionInvalid
from ondemand.formats import parse_output
from ondemand.window import Window

UTM = CRS.from_epsg(32633)


@pytest.mark.parametrize(
    ("name", "width", "height", "size", "count"),
    [
        ("exact", 256, 128, 64, 8),
        ("ragged_edges", 300, 130, 64, 15),
        ("one_chunk", 50, 40, 1024, 1),
        ("single_pixels", 3, 2, 1, 6),
    ],
)
def test_chunks_tile_the_window_on_its_grid(
    name: str, width: int, height: int, size: int, count: int
) -> None:
    window = Window(UTM, (500000.0, 3998700.0, 500000.0 + 10 * width, 3998700.0 + 10 * height),
                    width, height)
    chunks = split_window(window, size)
    assert len(chunks) == count
    covered = np.zeros((height, width), dtype=int)
    for chunk in chunks:
        covered[chunk.row_off:chunk.row_off + chunk.height,
                chunk.col_off:chunk.col_off + chunk.width] += 1
        assert chunk.window.resolution == pytest.approx(window.resolution)
        # the chunk's top-left pixel is the output's pixel at its offsets
        assert chunk.window.transform * (0, 0) == pytest.approx(
            window.transform * (chunk.col_off, chunk.row_off))
    assert (covered == 1).all()


T1, T2, T3 = (datetime(2020, 1, d, tzinfo=UTC) for d in (1, 2, 3))


def cube(values: np.ndarray, mask: np.ndarray, times: tuple[datetime, ...] | None) -> Cube:
    return Cube(np.ma.MaskedArray(values, mask=mask), times, ("ndvi",), UTM,
                Affine(10, 0, 0, 0, -10, 0))


def test_missing_dates_of_a_chunk_are_masked() -> None:
    values = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
    mask = np.zeros(values.shape, dtype=bool)
    mask[1, 0, 0, 0] = True
    layout = layout_for(values.dtype, parse_output(None), ("ndvi",), (T1, T2, T3))
    out, band_mask = file_values(cube(values, mask, (T1, T3)), layout)
    assert band_mask is None and out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out[0], values[0, 0])
    assert np.isnan(out[1]).all()  # T2 has no item under this chunk
    assert np.isnan(out[2, 0, 0]) and out[2, 1, 1] == 7
    assert layout.descriptions() == [t.isoformat() for t in (T1, T2, T3)]
    assert layout.tags(2) == {"band": "ndvi", "datetime": T3.isoformat()}


@pytest.mark.parametrize(
    ("name", "dtype", "nodata"),
    [("int16", "int16", -32768), ("uint16", "uint16", 65535), ("bool", "bool", 255),
     ("float64", "float64", None)],
)
def test_nodata_of_each_dtype(name: str, dtype: str, nodata: int | None) -> None:
    layout = layout_for(np.dtype(dtype), parse_output(None), ("b",), None)
    if nodata is None:
        assert layout.nodata is not None and np.isnan(layout.nodata)
    else:
        assert layout.nodata == nodata
    values = np.ones((1, 1, 2, 2), dtype=dtype)
    mask = np.array([[[[True, False], [False, False]]]])
    out, _ = file_values(cube(values, mask, None), layout)
    assert out.dtype == np.dtype(layout.dtype)
    assert (np.isnan(out[0, 0, 0]) if nodata is None else out[0, 0, 0] == nodata)
    assert out[0, 1, 1] == 1


def test_valid_pixel_equal_to_integer_nodata_fails_clearly() -> None:
    values = np.full((1, 1, 2, 2), -32768, dtype=np.int16)
    layout = layout_for(values.dtype, parse_output(None), ("b",), None)
    with pytest.raises(OutputOptionInvalid, match="equal to -32768, the nodata value"):
        file_values(cube(values, np.zeros(values.shape, dtype=bool), None), layout)


def test_jpeg_writes_a_mask_band() -> None:
    values = np.full((1, 1, 2, 2), 7, dtype=np.uint8)
    mask = np.array([[[[True, False], [False, False]]]])
    layout = layout_for(values.dtype, parse_output({"compress": "JPEG"}), ("b",), None)
    out, band_mask = file_values(cube(values, mask, None), layout)
    assert layout.nodata is None and band_mask is not None
    np.testing.assert_array_equal(band_mask, [[0, 255], [255, 255]])


@pytest.mark.parametrize(
    ("name", "output", "message"),
    [
        ("png", {"format": "PNG"}, "not PNG"),
        ("json", {"format": "JSON"}, "not JSON"),
        ("photometric", {"photometric": "MINISBLACK"}, "photometric"),
        ("rectangular_tiles", {"tiled": True, "blockxsize": 128, "blockysize": 256}, "square"),
    ],
)
def test_batch_spec_refuses(name: str, output: dict[str, object], message: str) -> None:
    with pytest.raises(OutputOptionInvalid, match=message):
        batch_spec(output)


def test_batch_spec_keeps_options_and_makes_a_cog() -> None:
    spec = batch_spec({"compress": "zstd", "predictor": 3, "tiled": True, "blockxsize": 512,
                       "blockysize": 512, "resolution": 20})
    assert (spec.cog, spec.compress, spec.predictor, spec.blockxsize) == (True, "ZSTD", 3, 512)
    assert spec.resolution == (20.0, 20.0)
