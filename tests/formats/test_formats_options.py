from __future__ import annotations

import re

import numpy as np
import pytest

from ondemand.errors import OutputFormatUnsupported, OutputOptionInvalid, OutputOptionUnsupported
from ondemand.formats import OutputSpec, check_encodable, output_formats, parse_output

DRAFT_EXAMPLE = {
    "format": "GTiff",
    "tiled": True,
    "compress": "jpeg",
    "photometric": "YCBCR",
    "jpeg_quality": 80,
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("GTiff", "GTiff", id="gtiff"),
        pytest.param("GeoTIFF", "GTiff", id="geotiff"),
        pytest.param("tiff", "GTiff", id="tiff"),
        pytest.param("image/tiff", "GTiff", id="media-type-tiff"),
        pytest.param("image/tiff; application=geotiff", "GTiff", id="media-type-geotiff"),
        pytest.param("png", "PNG", id="png-lower"),
        pytest.param("JPG", "JPEG", id="jpg"),
        pytest.param("jpeg", "JPEG", id="jpeg"),
        pytest.param("Json", "JSON", id="json"),
    ],
)
def test_format_names(name: str, expected: str) -> None:
    assert parse_output({"format": name}).format == expected


@pytest.mark.parametrize("options", [None, {}], ids=["none", "empty"])
def test_default_is_deflate_gtiff(options: dict[str, object] | None) -> None:
    assert parse_output(options) == OutputSpec(format="GTiff", compress="DEFLATE", tiled=False)


def test_draft_example_parses() -> None:
    spec = parse_output(DRAFT_EXAMPLE)
    assert (spec.format, spec.tiled, spec.compress, spec.photometric, spec.jpeg_quality) == (
        "GTiff",
        True,
        "JPEG",
        "YCBCR",
        80,
    )


def test_tiles_is_a_synonym_of_tiled() -> None:
    assert parse_output({"format": "GTiff", "tiles": True}).tiled is True


@pytest.mark.parametrize(
    ("options", "attribute", "expected"),
    [
        pytest.param({"TILED": "yes"}, "tiled", True, id="case-insensitive-key-gdal-bool"),
        pytest.param({"tiled": "false"}, "tiled", False, id="string-false"),
        pytest.param({"compress": "lzw"}, "compress", "LZW", id="compress-lower"),
        pytest.param({"compress": "deflate", "zlevel": "9"}, "zlevel", 9, id="zlevel-string"),
        pytest.param({"tiled": True, "blockxsize": 512}, "blockxsize", 512, id="blockxsize"),
        pytest.param({"format": "png", "colormap": "RdYlGn"}, "colormap", "rdylgn", id="cmap"),
        pytest.param(
            {"format": "png", "rescale": [0, 3000]}, "rescale", ((0.0, 3000.0),), id="rescale"
        ),
        pytest.param(
            {"format": "png", "rescale": "0,3000"}, "rescale", ((0.0, 3000.0),), id="rescale-text"
        ),
        pytest.param(
            {"format": "jpeg", "rescale": [[0, 1], [0, 2], [0, 3]]},
            "rescale",
            ((0.0, 1.0), (0.0, 2.0), (0.0, 3.0)),
            id="rescale-per-band",
        ),
        pytest.param({"format": "png", "bands": "B04"}, "bands", ("B04",), id="one-band"),
        pytest.param(
            {"format": "png", "bands": ["B04", 3, "B02"]}, "bands", ("B04", 3, "B02"), id="rgb"
        ),
        pytest.param({"resolution": 10}, "resolution", (10.0, 10.0), id="resolution-number"),
        pytest.param({"resolution": [10, 20]}, "resolution", (10.0, 20.0), id="resolution-xy"),
        pytest.param({"crs": 32632}, "crs", 32632, id="crs-int"),
        pytest.param({"format": "json", "crs": "EPSG:4326"}, "crs", "EPSG:4326", id="crs-text"),
        pytest.param({"width": 256}, "width", 256, id="width"),
        pytest.param({"resampling": "Bilinear"}, "resampling", "bilinear", id="resampling"),
    ],
)
def test_option_values(options: dict[str, object], attribute: str, expected: object) -> None:
    assert getattr(parse_output(options), attribute) == expected


OPTION_ERRORS = [
    pytest.param({"format": "KML"}, OutputFormatUnsupported, "GTiff, PNG, JPEG, JSON", id="kml"),
    pytest.param({"format": 3}, OutputFormatUnsupported, "supported formats", id="format-int"),
    pytest.param({"worldfile": True}, OutputOptionUnsupported, "'worldfile'", id="unknown"),
    pytest.param(
        {"format": "PNG", "compress": "lzw"}, OutputOptionUnsupported, "for format PNG", id="png-c"
    ),
    pytest.param(
        {"format": "GTiff", "bands": [1]},
        OutputOptionUnsupported,
        "'bands' is not supported for format GTiff",
        id="gtiff-bands",
    ),
    pytest.param(
        {"format": "GTiff", "colormap": "viridis"},
        OutputOptionInvalid,
        "colormap applies to GTiff only with compress=JPEG",
        id="gtiff-colormap-without-jpeg",
    ),
    pytest.param({"compress": "lzma"}, OutputOptionInvalid, "NONE, DEFLATE", id="compress"),
    pytest.param({"tiled": "maybe"}, OutputOptionInvalid, "'tiled'", id="tiled"),
    pytest.param({"tiled": 1}, OutputOptionInvalid, "true or false", id="tiled-int"),
    pytest.param(
        {"compress": "JPEG", "jpeg_quality": 0}, OutputOptionInvalid, "1 to 100", id="quality-0"
    ),
    pytest.param({"predictor": 4}, OutputOptionInvalid, "'predictor'", id="predictor-4"),
    pytest.param({"predictor": True}, OutputOptionInvalid, "'predictor'", id="predictor-bool"),
    pytest.param(
        {"tiled": True, "blockxsize": 100}, OutputOptionInvalid, "multiple of 16", id="block-100"
    ),
    pytest.param({"blockxsize": 512}, OutputOptionInvalid, "add tiled=true", id="block-no-tiled"),
    pytest.param(
        {"cog": True, "blockxsize": 512, "blockysize": 256},
        OutputOptionInvalid,
        "same value",
        id="cog-rect-blocks",
    ),
    pytest.param(
        {"photometric": "YCBCR"}, OutputOptionInvalid, "needs compress=JPEG", id="ycbcr-deflate"
    ),
    pytest.param({"photometric": "CMYK"}, OutputOptionInvalid, "MINISBLACK", id="cmyk"),
    pytest.param(
        {"compress": "NONE", "predictor": 2},
        OutputOptionInvalid,
        "predictor=2 needs compress=DEFLATE",
        id="predictor-none",
    ),
    pytest.param(
        {"jpeg_quality": 80}, OutputOptionInvalid, "only with compress=JPEG", id="quality-deflate"
    ),
    pytest.param({"compress": "LZW", "zlevel": 5}, OutputOptionInvalid, "zlevel", id="zlevel-lzw"),
    pytest.param(
        {"cog": True, "compress": "JPEG", "photometric": "YCBCR"},
        OutputOptionInvalid,
        "cog=true",
        id="cog-photometric",
    ),
    pytest.param({"format": "png", "colormap": "nope"}, OutputOptionInvalid, "'nope'", id="cmap"),
    pytest.param({"format": "png", "rescale": [3, 1]}, OutputOptionInvalid, "min < max", id="inv"),
    pytest.param({"format": "png", "rescale": [1]}, OutputOptionInvalid, "[min, max]", id="short"),
    pytest.param(
        {"format": "png", "rescale": [0, "x"]}, OutputOptionInvalid, "a number", id="rescale-x"
    ),
    pytest.param({"format": "png", "bands": ["a", "b"]}, OutputOptionInvalid, "3 bands", id="2b"),
    pytest.param({"format": "png", "bands": [0]}, OutputOptionInvalid, "1-based", id="band-0"),
    pytest.param(
        {"format": "png", "bands": ["r", "g", "b"], "colormap": "viridis"},
        OutputOptionInvalid,
        "drop colormap",
        id="rgb-colormap",
    ),
    pytest.param(
        {"format": "png", "bands": ["r", "g", "b"], "rescale": [[0, 1], [0, 1]]},
        OutputOptionInvalid,
        "2 ranges for 3 bands",
        id="rescale-count",
    ),
    pytest.param({"width": 0}, OutputOptionInvalid, "'width'", id="width-0"),
    pytest.param({"height": 1.5}, OutputOptionInvalid, "'height'", id="height-float"),
    pytest.param({"resolution": -10}, OutputOptionInvalid, "positive", id="resolution-neg"),
    pytest.param({"crs": ["EPSG:4326"]}, OutputOptionInvalid, "'crs'", id="crs-list"),
    pytest.param({"resampling": 2}, OutputOptionInvalid, "'resampling'", id="resampling-int"),
    pytest.param({"tiled": True, "TILED": True}, OutputOptionInvalid, "twice", id="duplicate"),
    pytest.param({"tiled": True, "tiles": True}, OutputOptionInvalid, "twice", id="dup-synonym"),
]


@pytest.mark.parametrize(("options", "error", "fragment"), OPTION_ERRORS)
def test_option_errors(options: dict[str, object], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        parse_output(options)
    assert fragment in str(info.value)
    assert type(info.value) is error


def test_not_an_object() -> None:
    with pytest.raises(OutputOptionInvalid, match="JSON object"):
        parse_output(["GTiff"])  # type: ignore[arg-type]


def test_draft_example_on_float_ndvi_is_a_400_with_alternatives() -> None:
    spec = parse_output(DRAFT_EXAMPLE)
    with pytest.raises(OutputOptionInvalid) as info:
        check_encodable(spec, np.dtype("float32"), 1)
    message = str(info.value)
    assert info.value.code == 3003
    assert (
        "compress=JPEG needs 8-bit data (uint8) but the result is float32; use compress=DEFLATE "
        "(lossless, keeps float32) or format=PNG/JPEG for a rendered picture"
    ) in message
    assert "photometric=YCBCR needs exactly 3 bands (red, green, blue) but the result has 1" in (
        message
    )


ENCODABLE = [
    pytest.param(DRAFT_EXAMPLE, "uint8", 3, 1, None, id="draft-on-rgb-uint8"),
    pytest.param(DRAFT_EXAMPLE, "bool", 3, 1, None, id="draft-on-bool"),
    pytest.param(DRAFT_EXAMPLE, "uint8", 1, 3, None, id="ycbcr-three-dates"),
    pytest.param(DRAFT_EXAMPLE, "uint8", 1, 2, "has 2", id="ycbcr-two-dates"),
    pytest.param(DRAFT_EXAMPLE, "uint16", 3, 1, "result is uint16", id="jpeg-uint16"),
    pytest.param({"compress": "jpeg"}, "int8", 1, 1, "result is int8", id="jpeg-int8"),
    pytest.param({"predictor": 3}, "float16", 1, 1, None, id="predictor3-float16"),
    pytest.param({"predictor": 3}, "int16", 1, 1, "use predictor=2", id="predictor3-int"),
    pytest.param({"predictor": 2}, "float64", 1, 1, None, id="predictor2-float"),
    pytest.param({"photometric": "RGB"}, "uint16", 1, 1, "RGB needs 3 bands", id="rgb-1-band"),
    pytest.param({"photometric": "RGB"}, "uint16", 3, 1, None, id="rgb-3-bands"),
    pytest.param({}, "complex64", 2, 1, None, id="gtiff-complex"),
    pytest.param({}, "datetime64[s]", 1, 1, "cannot hold", id="gtiff-datetime"),
    pytest.param({"format": "json"}, "complex64", 1, 1, "use format=GTiff", id="json-complex"),
    pytest.param({"format": "png"}, "float32", 4, 1, "bands=[...]", id="png-4-bands"),
    pytest.param({"format": "png"}, "float32", 1, 5, None, id="png-time"),
    pytest.param({"format": "png", "bands": [4]}, "uint8", 3, 1, "band 4", id="png-band-4"),
    pytest.param({"format": "png", "bands": [4]}, "uint8", 4, 1, None, id="png-pick-4"),
    pytest.param(
        {"format": "jpeg", "colormap": "viridis"}, "uint8", 3, 1, "drop colormap", id="jpeg-rgb-cm"
    ),
    pytest.param(
        {"format": "png", "rescale": [[0, 1], [0, 2]]}, "uint8", 3, 1, "2 ranges", id="rescale-n"
    ),
]


@pytest.mark.parametrize(("options", "dtype", "bands", "dates", "fragment"), ENCODABLE)
def test_check_encodable(
    options: dict[str, object], dtype: str, bands: int, dates: int, fragment: str | None
) -> None:
    spec = parse_output(options)
    if fragment is None:
        check_encodable(spec, np.dtype(dtype), bands, date_count=dates)
    else:
        with pytest.raises(OutputOptionInvalid, match=re.escape(fragment)):
            check_encodable(spec, np.dtype(dtype), bands, date_count=dates)


def test_output_formats_shape_and_every_listed_option_parses() -> None:
    described = output_formats()
    assert described["default"] == "GTiff"
    assert set(described["formats"]) == {
        "GTiff", "PNG", "JPEG", "JSON", "netCDF", "GPKG", "GeoJSON", "CSV"
    }
    gtiff = described["formats"]["GTiff"]
    assert {"tiled", "compress", "photometric", "jpeg_quality", "cog"} <= set(gtiff)
    assert "colormap" in described["formats"]["PNG"]
    assert "compress" not in described["formats"]["PNG"]
    for fmt, options in described["formats"].items():
        for name, description in options.items():
            assert "efault" in description, (fmt, name)
            with pytest.raises(OutputOptionInvalid) as info:
                parse_output({"format": fmt, name: object()})
            assert name in str(info.value), (fmt, name)
