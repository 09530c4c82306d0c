"""Check, before any pixel is read or written, that a result can be encoded as asked."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import OutputOptionInvalid
from .options import OutputSpec

_REAL_KINDS = ("b", "u", "i", "f")


def file_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype a GeoTIFF stores for ``dtype``: bool as uint8, float16 as float32."""
    if dtype.kind == "b":
        return np.dtype(np.uint8)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def renders(spec: OutputSpec, dtype: np.dtype[Any], file_bands: int) -> bool:
    """Whether a GeoTIFF download is rendered to 8-bit RGB first (:mod:`.rendered`).

    It is when ``compress=JPEG`` meets data that is not 8-bit, or YCbCr meets other
    than 3 bands, or ``colormap`` / ``rescale`` ask for a rendering.
    """
    if spec.format != "GTiff" or spec.compress != "JPEG":
        return False
    return (
        file_dtype(np.dtype(dtype)) != np.uint8
        or spec.colormap is not None
        or spec.rescale is not None
        or (spec.photometric == "YCBCR" and file_bands != 3)
    )


def check_encodable(
    spec: OutputSpec,
    dtype: np.dtype[Any],
    band_count: int,
    *,
    date_count: int = 1,
    render: bool = False,
) -> None:
    """Raise ``OutputOptionInvalid`` if ``spec`` cannot encode such a result.

    ``band_count`` is the number of bands of the result and ``date_count`` the
    length of its time axis (a GeoTIFF holds ``date_count * band_count`` bands; a
    picture renders the last date). With ``render``, a GeoTIFF that :func:`renders`
    is checked as a rendering (synchronous downloads); without, its values must fit
    as they are (batch results). The message names every conflict and a working
    alternative.
    """
    dtype = np.dtype(dtype)
    file_bands = band_count * date_count
    if render and renders(spec, dtype, file_bands):
        problems = _kind_problem(spec, dtype, _REAL_KINDS)
        problems += _rendering_problems(spec, band_count, date_count)
    elif spec.format == "GTiff":
        problems = _gtiff_problems(spec, file_dtype(dtype), file_bands)
    elif spec.format in ("PNG", "JPEG"):
        problems = _picture_problems(spec, dtype, band_count)
    else:
        problems = _kind_problem(spec, dtype, _REAL_KINDS)
    if problems:
        raise OutputOptionInvalid("; ".join(problems))


def _kind_problem(spec: OutputSpec, dtype: np.dtype[Any], kinds: tuple[str, ...]) -> list[str]:
    if dtype.kind in kinds:
        return []
    return [f"format={spec.format} cannot hold {dtype} data; use format=GTiff"]


def _rendering_problems(spec: OutputSpec, band_count: int, date_count: int) -> list[str]:
    problems: list[str] = []
    file_bands = band_count * date_count
    if date_count != 1 or band_count not in (1, 3):
        problems.append(
            f"compress=JPEG renders the result to 8-bit RGB, from 1 band (colormapped) or 3 "
            f"bands (red, green, blue) of one date, but the result has {date_count} date(s) x "
            f"{band_count} band(s); reduce it (e.g. max_time, filter_bands) or use "
            "compress=DEFLATE to keep every band and value"
        )
    if spec.photometric in ("MINISBLACK", "MINISWHITE"):
        problems.append(
            f"photometric={spec.photometric} cannot describe a rendered RGB GeoTIFF; drop "
            "photometric (YCBCR is used) or use compress=DEFLATE to keep the values"
        )
    if spec.colormap is not None and file_bands == 3:
        problems.append(
            "colormap applies to 1 rendered band but 3 bands are rendered as RGB; drop colormap"
        )
    if spec.rescale is not None and len(spec.rescale) not in (1, file_bands):
        problems.append(
            f"rescale gives {len(spec.rescale)} ranges for {file_bands} rendered bands; "
            "give one [min, max] or one per band"
        )
    return problems


def _gtiff_problems(spec: OutputSpec, dtype: np.dtype[Any], file_bands: int) -> list[str]:
    if dtype.kind not in (*_REAL_KINDS, "c"):
        return [f"format=GTiff cannot hold {dtype} data"]
    problems: list[str] = []
    name = dtype.name
    if spec.compress == "JPEG" and dtype != np.uint8:
        problems.append(
            f"compress=JPEG needs 8-bit data (uint8) but the result is {name}; use "
            f"compress=DEFLATE (lossless, keeps {name}) or format=PNG/JPEG for a rendered picture"
        )
    if spec.photometric == "YCBCR" and file_bands != 3:
        problems.append(
            f"photometric=YCBCR needs exactly 3 bands (red, green, blue) but the result has "
            f"{file_bands}; drop photometric (MINISBLACK is used)"
        )
    if spec.photometric == "RGB" and file_bands < 3:
        problems.append(
            f"photometric=RGB needs 3 bands but the result has {file_bands}; "
            "drop photometric (MINISBLACK is used)"
        )
    if spec.predictor == 3 and dtype.kind != "f":
        problems.append(
            f"predictor=3 (floating point) needs float data but the result is {name}; "
            "use predictor=2"
        )
    if spec.predictor == 2 and dtype.kind == "c":
        problems.append(f"predictor=2 cannot difference {name} data; use predictor=1")
    return problems


def _picture_problems(spec: OutputSpec, dtype: np.dtype[Any], band_count: int) -> list[str]:
    problems = _kind_problem(spec, dtype, _REAL_KINDS)
    if spec.bands is None:
        rendered = band_count
        if rendered not in (1, 3):
            problems.append(
                f"format={spec.format} renders 1 band (colormapped) or 3 bands (RGB) but the "
                f"result has {band_count}; pick them with bands=[...] or use format=GTiff"
            )
    else:
        rendered = len(spec.bands)
        for ref in spec.bands:
            if isinstance(ref, int) and ref > band_count:
                problems.append(
                    f"bands asks for band {ref} but the result has {band_count} band(s); "
                    f"use numbers from 1 to {band_count}"
                )
    if spec.colormap is not None and rendered == 3:
        problems.append(
            "colormap applies to 1 rendered band but 3 bands are rendered as RGB; "
            "drop colormap or pick one band with bands=[...]"
        )
    if spec.rescale is not None and len(spec.rescale) not in (1, rendered):
        problems.append(
            f"rescale gives {len(spec.rescale)} ranges for {rendered} rendered bands; "
            "give one [min, max] or one per band"
        )
    return problems
