"""The ``output`` object of a request: parse, validate and describe output options.

Each option is declared once (formats it applies to, parser, description); the
declaration drives :func:`parse_output` and :func:`output_formats` alike. Names
follow GDAL's creation options where one exists. Checks that depend on the
result's dtype or band count live in :mod:`ondemand.formats.checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import OutputFormatUnsupported, OutputOptionInvalid, OutputOptionUnsupported
from . import values as parse
from .values import BandRef, Compress, Photometric

__all__ = ["FORMATS", "RASTER_FORMATS", "TABLE_FORMATS", "BandRef", "Format", "OutputSpec",
           "format_name", "output_formats", "parse_output"]

Format = Literal["GTiff", "PNG", "JPEG", "JSON", "netCDF", "GPKG", "GeoJSON", "CSV"]

RASTER_FORMATS: tuple[Format, ...] = ("GTiff", "PNG", "JPEG", "JSON", "netCDF")
TABLE_FORMATS: tuple[Format, ...] = ("GPKG", "GeoJSON", "CSV", "JSON")
"""Formats of table results (zonal_statistics); JSON holds rasters and tables."""
FORMATS: tuple[Format, ...] = (*RASTER_FORMATS, "GPKG", "GeoJSON", "CSV")
DEFAULT_FORMAT: Format = "GTiff"
PREDICTOR_COMPRESSIONS = ("DEFLATE", "LZW", "ZSTD")

_FORMAT_ALIASES: dict[str, Format] = {
    "gtiff": "GTiff",
    "geotiff": "GTiff",
    "tiff": "GTiff",
    "tif": "GTiff",
    "image/tiff": "GTiff",
    "image/geotiff": "GTiff",
    "image/tiff;application=geotiff": "GTiff",
    "png": "PNG",
    "image/png": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "image/jpeg": "JPEG",
    "json": "JSON",
    "application/json": "JSON",
    "gpkg": "GPKG",
    "geopackage": "GPKG",
    "application/geopackage+sqlite3": "GPKG",
    "geojson": "GeoJSON",
    "application/geo+json": "GeoJSON",
    "csv": "CSV",
    "text/csv": "CSV",
    "netcdf": "netCDF",
    "nc": "netCDF",
    "netcdf4": "netCDF",
    "application/x-netcdf": "netCDF",
    "application/netcdf": "netCDF",
}

_NOTES: dict[Format, str] = {
    "netCDF": ", whose files are always deflated netCDF-4",
}
"""Why a format takes none of the encoding options of another."""

_SYNONYMS = {"tiles": "tiled"}
"""The draft's openapi example writes ``tiles``; it means ``tiled``."""


@dataclass(frozen=True)
class OutputSpec:
    """A validated ``output`` object.

    Encoding options (GTiff: ``tiled`` … ``cog``; PNG/JPEG: ``colormap``,
    ``rescale``, ``bands``, ``jpeg_quality``, ``zlevel``) are read by the encoders.
    Grid options (``width``, ``height``, ``resolution``, ``crs``, ``resampling``)
    are only type-checked here and are read by the evaluator. ``None`` means the
    option was not given and its documented default applies.
    """

    format: Format = DEFAULT_FORMAT
    tiled: bool = False
    blockxsize: int = 256
    blockysize: int = 256
    compress: Compress = "DEFLATE"
    predictor: int | None = None
    photometric: Photometric | None = None
    jpeg_quality: int | None = None
    zlevel: int | None = None
    cog: bool = False
    colormap: str | None = None
    rescale: tuple[tuple[float, float], ...] | None = None
    bands: tuple[BandRef, ...] | None = None
    width: int | None = None
    height: int | None = None
    resolution: tuple[float, float] | None = None
    crs: str | int | None = None
    resampling: str | None = None


@dataclass(frozen=True)
class _Option:
    formats: tuple[Format, ...]
    parse: Callable[[str, Any], Any]
    description: str


_RENDERED: tuple[Format, ...] = ("PNG", "JPEG")
_STYLED: tuple[Format, ...] = ("GTiff", *_RENDERED)
"""Formats taking a style: pictures, and GeoTIFFs rendered for compress=JPEG."""
_GRID: tuple[Format, ...] = RASTER_FORMATS

OPTIONS: dict[str, _Option] = {
    "tiled": _Option(
        ("GTiff",),
        parse.boolean,
        "By default [false] stripped TIFF files are created; true writes tiled TIFF files "
        "(synonym: tiles).",
    ),
    "blockxsize": _Option(
        ("GTiff",),
        parse.blocksize,
        "Tile width with tiled=true or cog=true, a multiple of 16. Default: 256.",
    ),
    "blockysize": _Option(
        ("GTiff",),
        parse.blocksize,
        "Tile height with tiled=true or cog=true, a multiple of 16. Default: 256.",
    ),
    "compress": _Option(
        ("GTiff",),
        parse.compress,
        "Compression [NONE/DEFLATE/LZW/ZSTD/JPEG]. Default: DEFLATE. "
        "JPEG writes 8-bit data: a result that is not 8-bit RGB is rendered to RGB (as map "
        "tiles are; colormap and rescale apply) and the OnDemand-Rendering response header "
        "says so; DEFLATE keeps the values.",
    ),
    "predictor": _Option(
        ("GTiff",),
        parse.predictor,
        "Predictor for DEFLATE/LZW/ZSTD [1: none, 2: horizontal, 3: floating point, float data "
        "only]. Default: 1.",
    ),
    "photometric": _Option(
        ("GTiff",),
        parse.photometric,
        "Photometric interpretation [MINISBLACK/MINISWHITE/RGB/YCBCR]. Default: MINISBLACK "
        "(RGB for 3 uint8 bands). RGB needs 3 bands; YCBCR needs compress=JPEG (other "
        "than 3 uint8 bands are rendered to RGB). Not with cog=true.",
    ),
    "jpeg_quality": _Option(
        ("GTiff", "JPEG"),
        parse.jpeg_quality,
        "JPEG quality [1-100] (GTiff: with compress=JPEG). Default: 75.",
    ),
    "zlevel": _Option(
        ("GTiff", "PNG"),
        parse.zlevel,
        "DEFLATE level [1-9] (GTiff: with compress=DEFLATE). Default: 6.",
    ),
    "cog": _Option(
        ("GTiff",),
        parse.boolean,
        "Write a Cloud Optimized GeoTIFF (tiled, with overviews) with GDAL's COG driver. "
        "Default: false.",
    ),
    "colormap": _Option(
        _STYLED,
        parse.colormap,
        "Colormap name for a 1-band result (see the colormap list). Default: rdylgn over "
        "[-1, 1] for float data within -1..1 (NDVI-like), otherwise grayscale. GTiff: only "
        "with compress=JPEG, which renders the result to 8-bit RGB.",
    ),
    "rescale": _Option(
        _STYLED,
        parse.rescale,
        "Value range mapped to the colors: [min, max], or one [min, max] per rendered band. "
        "Default: [-1, 1] for NDVI-like data; otherwise the data's min/max for 1 band, and "
        "for 3 bands none for uint8 data else the 2nd-98th percentile of all three bands. "
        "GTiff: only with compress=JPEG.",
    ),
    "bands": _Option(
        _RENDERED,
        parse.bands,
        "Bands to render: 1 (colormapped) or 3 (red, green, blue), by name or 1-based "
        "number. Default: all bands of the result (which must then be 1 or 3).",
    ),
    "width": _Option(
        _GRID, parse.size, "Output width in pixels. Default: from the process graph."
    ),
    "height": _Option(
        _GRID, parse.size, "Output height in pixels. Default: from the process graph."
    ),
    "resolution": _Option(
        _GRID,
        parse.resolution,
        "Output pixel size in CRS units, a number or [x, y]. Default: from the process graph.",
    ),
    "crs": _Option(
        _GRID,
        parse.crs,
        "Output CRS, e.g. 'EPSG:4326' or 4326. Default: from the process graph.",
    ),
    "resampling": _Option(
        _GRID,
        parse.resampling,
        "Resampling when the output grid is not the data's: nearest (default), bilinear, "
        "cubic, average or mode.",
    ),
}


def format_name(value: Any) -> Format:
    """Map a format name or media type (case-insensitive) to its canonical name."""
    if isinstance(value, str):
        key = value.strip().lower().replace(" ", "")
        if key in _FORMAT_ALIASES:
            return _FORMAT_ALIASES[key]
    raise OutputFormatUnsupported(
        f"Output format {value!r} is not supported; supported formats: {', '.join(FORMATS)}"
    )


def parse_output(options: Mapping[str, Any] | None) -> OutputSpec:
    """Validate the draft's ``output`` object and return an :class:`OutputSpec`.

    Names and string values are case-insensitive; the format defaults to GTiff.
    Raises ``OutputFormatUnsupported``, ``OutputOptionUnsupported`` (unknown option,
    or one the format does not take) or ``OutputOptionInvalid`` (bad value or a
    combination that can never be written, whatever the data).
    """
    if options is None:
        return OutputSpec()
    if not isinstance(options, Mapping):
        raise OutputOptionInvalid(f"The output object must be a JSON object, got {options!r}")
    raw: dict[str, Any] = {}
    for key, value in options.items():
        name = str(key).strip().lower()
        name = _SYNONYMS.get(name, name)
        if name in raw:
            raise OutputOptionInvalid(f"Output format argument {name!r} is given twice")
        raw[name] = value
    fmt = format_name(raw.pop("format")) if "format" in raw else DEFAULT_FORMAT
    values: dict[str, Any] = {}
    for name, value in raw.items():
        option = OPTIONS.get(name)
        if option is None or fmt not in option.formats:
            taken = ", ".join(sorted(n for n, o in OPTIONS.items() if fmt in o.formats))
            what = "is not supported" if option is None else (
                f"is not supported for format {fmt}{_NOTES.get(fmt, '')} (it applies to "
                f"{'/'.join(option.formats)}: drop it or use "
                f"format={' or '.join(option.formats)})"
            )
            raise OutputOptionUnsupported(
                f"Output format argument {name!r} {what}; {fmt} takes: {taken}"
            )
        values[name] = option.parse(name, value)
    spec = OutputSpec(format=fmt, **values)
    _check_combinations(spec, frozenset(values))
    return spec


def _check_combinations(spec: OutputSpec, given: frozenset[str]) -> None:
    """Reject option combinations GDAL cannot write for any data."""
    problems: list[str] = []
    if spec.format == "GTiff":
        compress = spec.compress
        if spec.photometric == "YCBCR" and compress != "JPEG":
            problems.append(
                f"photometric=YCBCR needs compress=JPEG but compress={compress}; "
                "add compress=JPEG or drop photometric"
            )
        if spec.predictor not in (None, 1) and compress not in PREDICTOR_COMPRESSIONS:
            problems.append(
                f"predictor={spec.predictor} needs compress=DEFLATE, LZW or ZSTD but "
                f"compress={compress}; use compress=DEFLATE"
            )
        if "jpeg_quality" in given and compress != "JPEG":
            problems.append(
                f"jpeg_quality applies only with compress=JPEG but compress={compress}; "
                "drop jpeg_quality"
            )
        if "zlevel" in given and compress != "DEFLATE":
            problems.append(
                f"zlevel applies only with compress=DEFLATE but compress={compress}; drop zlevel"
            )
        styled = sorted(given & {"colormap", "rescale"})
        if styled and compress != "JPEG":
            problems.append(
                f"{'/'.join(styled)} applies to GTiff only with compress=JPEG (a GeoTIFF "
                f"rendered to 8-bit RGB) but compress={compress}; add compress=JPEG, drop "
                f"{'/'.join(styled)}, or use format=PNG"
            )
        blocks = given & {"blockxsize", "blockysize"}
        if blocks and not (spec.tiled or spec.cog):
            problems.append(
                f"{'/'.join(sorted(blocks))} needs tiled=true (a stripped TIFF has no tiles); "
                "add tiled=true"
            )
        if spec.cog and spec.blockxsize != spec.blockysize:
            problems.append(
                f"cog=true writes square tiles but blockxsize={spec.blockxsize} and "
                f"blockysize={spec.blockysize}; give both the same value"
            )
        if spec.cog and spec.photometric is not None:
            problems.append(
                f"photometric={spec.photometric} cannot be set with cog=true (the COG driver "
                "picks it, YCbCr for 3-band JPEG); drop photometric or set cog=false"
            )
    if spec.rescale is not None and spec.bands is not None:
        if len(spec.rescale) not in (1, len(spec.bands)):
            problems.append(
                f"rescale gives {len(spec.rescale)} ranges for {len(spec.bands)} bands; "
                "give one [min, max] or one per band"
            )
    if spec.colormap is not None and spec.bands is not None and len(spec.bands) == 3:
        problems.append(
            "colormap applies to 1 rendered band but bands picks 3 (rendered as RGB); "
            "drop colormap or pick one band"
        )
    if problems:
        raise OutputOptionInvalid("; ".join(problems))


def output_formats() -> dict[str, Any]:
    """Describe formats and options for ``GET /capabilities/output_formats``.

    The draft's shape: ``{"default": "GTiff", "formats": {"GTiff": {option:
    "description with default"}, ...}}``.
    """
    formats: dict[str, dict[str, str]] = {}
    for fmt in FORMATS:
        formats[fmt] = {
            name: option.description for name, option in OPTIONS.items() if fmt in option.formats
        }
    return {"default": DEFAULT_FORMAT, "formats": formats}
