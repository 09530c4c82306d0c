"""Parsers of output option values: ``(option name, raw value) -> parsed value``.

Each raises OutputOptionInvalid naming the option, the value and what is expected;
strings are accepted where the draft's examples give them (``"true"``, ``"-1,1"``).
"""

from __future__ import annotations

from typing import Any, Literal

from ..errors import OutputOptionInvalid
from ..window import RESAMPLING_METHODS
from .colormaps import colormap_names

Compress = Literal["NONE", "DEFLATE", "LZW", "ZSTD", "JPEG"]
Photometric = Literal["MINISBLACK", "MINISWHITE", "RGB", "YCBCR"]
BandRef = str | int
"""A band picked by name, or by 1-based position in the result."""
COMPRESSIONS: tuple[Compress, ...] = ("NONE", "DEFLATE", "LZW", "ZSTD", "JPEG")
PHOTOMETRICS: tuple[Photometric, ...] = ("MINISBLACK", "MINISWHITE", "RGB", "YCBCR")


def _invalid(name: str, value: Any, expected: str) -> OutputOptionInvalid:
    return OutputOptionInvalid(
        f"Invalid value {value!r} for the output format argument {name!r}: expected {expected}"
    )


def boolean(name: str, value: Any) -> bool:
    """true/false (or the strings true, yes, 1, false, no, 0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise _invalid(name, value, "true or false")


def integer(name: str, value: Any, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` (digits in a string accepted)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    if number is None or not low <= number <= high:
        raise _invalid(name, value, f"an integer from {low} to {high}")
    return number


def finite_number(name: str, value: Any) -> float:
    """A finite number (a numeric string accepted)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(name, value, "a number")
    try:
        number = float(value)
    except ValueError:
        raise _invalid(name, value, "a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _invalid(name, value, "a finite number")
    return number


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``, case-insensitive; returned upper-case."""
    if isinstance(value, str) and value.strip().upper() in choices:
        return value.strip().upper()
    raise _invalid(name, value, "one of " + ", ".join(choices))


def blocksize(name: str, value: Any) -> int:
    """A GDAL tile size: a multiple of 16 from 16 to 4096."""
    number = integer(name, value, 16, 4096)
    if number % 16:
        raise _invalid(name, value, "a multiple of 16 from 16 to 4096 (GDAL tiles)")
    return number


def predictor(name: str, value: Any) -> int:
    """A GeoTIFF predictor: 1, 2 or 3."""
    return integer(name, value, 1, 3)


def jpeg_quality(name: str, value: Any) -> int:
    """A JPEG quality from 1 to 100."""
    return integer(name, value, 1, 100)


def zlevel(name: str, value: Any) -> int:
    """A DEFLATE level from 1 to 9."""
    return integer(name, value, 1, 9)


def compress(name: str, value: Any) -> str:
    """A GeoTIFF compression name."""
    return choice(name, value, COMPRESSIONS)


def photometric(name: str, value: Any) -> str:
    """A GeoTIFF photometric interpretation."""
    return choice(name, value, PHOTOMETRICS)


def colormap(name: str, value: Any) -> str:
    """A colormap name (lower-case)."""
    names = colormap_names()
    if isinstance(value, str) and value.strip().lower() in names:
        return value.strip().lower()
    raise _invalid(name, value, "a colormap name (see colormap_names(); e.g. rdylgn, viridis)")


def value_range(name: str, value: Any) -> tuple[float, float]:
    """``[min, max]`` (or ``"min,max"``) with min < max."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _invalid(name, value, "[min, max]")
    low, high = finite_number(name, value[0]), finite_number(name, value[1])
    if not low < high:
        raise _invalid(name, value, "[min, max] with min < max")
    return low, high


def rescale(name: str, value: Any) -> tuple[tuple[float, float], ...]:
    """One ``[min, max]`` or a list of them (one per rendered band)."""
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, list | tuple) for v in value)
    ):
        return tuple(value_range(name, v) for v in value)
    return (value_range(name, value),)


def bands(name: str, value: Any) -> tuple[BandRef, ...]:
    """1 or 3 bands, by name or 1-based number."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    refs: list[BandRef] = []
    for item in items:
        if isinstance(item, str) and item:
            refs.append(item)
        elif isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            refs.append(item)
        else:
            raise _invalid(name, value, "1 or 3 band names or 1-based band numbers")
    if len(refs) not in (1, 3):
        raise _invalid(name, value, "1 band (colormapped) or 3 bands (RGB)")
    return tuple(refs)


def size(name: str, value: Any) -> int:
    """A positive pixel count."""
    return integer(name, value, 1, 2**31 - 1)


def resolution(name: str, value: Any) -> tuple[float, float]:
    """A positive pixel size, one number or ``[x, y]``."""
    values = list(value) if isinstance(value, list | tuple) else [value, value]
    if len(values) != 2:
        raise _invalid(name, value, "a positive number or [x, y]")
    x, y = finite_number(name, values[0]), finite_number(name, values[1])
    if x <= 0 or y <= 0:
        raise _invalid(name, value, "a positive number or [x, y]")
    return x, y


def crs(name: str, value: Any) -> str | int:
    """A CRS text or a positive EPSG number."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise _invalid(name, value, "a CRS text such as 'EPSG:4326' or an EPSG number")


def resampling(name: str, value: Any) -> str:
    """A resampling method name (lower-case)."""
    if isinstance(value, str) and value.strip().lower() in RESAMPLING_METHODS:
        return value.strip().lower()
    raise _invalid(name, value, f"one of {', '.join(RESAMPLING_METHODS)}")
