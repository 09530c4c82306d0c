"""Named colormaps as 256-entry RGBA lookup tables, and legends for viewers.

Names come from rio-tiler's colormap registry (matplotlib and cmocean maps,
``_r`` reversed variants). Tables are built once per name and reused.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TypedDict

import numpy as np
from rio_tiler.colormap import cmap

from ..errors import OutputOptionInvalid

NDVI_COLORMAP = "rdylgn"
"""Default colormap for NDVI-like data (float values within -1..1): red-yellow-green."""


class LegendStop(TypedDict):
    """One color stop of a legend: a data value and its color."""

    value: float
    color: str
    rgba: tuple[int, int, int, int]


@lru_cache(maxsize=1)
def colormap_names() -> list[str]:
    """Names of the available colormaps, sorted (lower case)."""
    return sorted(cmap.list())


@cache
def _lut(name: str) -> np.ndarray:
    entries = cmap.get(name)
    if not isinstance(entries, dict) or len(entries) != 256:
        raise OutputOptionInvalid(f"Colormap {name!r} is not a 256-entry colormap")
    table = np.zeros((256, 4), dtype=np.uint8)
    for index, color in entries.items():
        table[int(index)] = color
    table.setflags(write=False)
    return table


def colormap_lut(name: str | None) -> np.ndarray:
    """Return the read-only ``(256, 4)`` uint8 RGBA table of a colormap.

    ``None`` gives a gray ramp. Unknown names raise ``OutputOptionInvalid``.
    """
    if name is None:
        return _gray()
    key = name.strip().lower()
    if key not in colormap_names():
        raise OutputOptionInvalid(
            f"Invalid value {name!r} for the output format argument 'colormap': "
            "not a known colormap (e.g. rdylgn, viridis, gray)"
        )
    return _lut(key)


@lru_cache(maxsize=1)
def _gray() -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8)
    table = np.stack([ramp, ramp, ramp, np.full(256, 255, np.uint8)], axis=1)
    table.setflags(write=False)
    return table


def legend(colormap: str | None, rescale: tuple[float, float], stops: int = 11) -> list[LegendStop]:
    """Return ``stops`` evenly spaced color stops from ``rescale[0]`` to ``rescale[1]``.

    Each stop holds the data value, its color as ``#rrggbb`` and as RGBA, exactly
    as :func:`~ondemand.formats.render.render_image` colors that value with the
    same colormap and range.
    """
    low, high = float(rescale[0]), float(rescale[1])
    if not high > low:
        raise OutputOptionInvalid(f"Legend range {rescale!r} must have min < max")
    if stops < 2:
        raise OutputOptionInvalid(f"A legend needs at least 2 stops, got {stops}")
    table = colormap_lut(colormap)
    result: list[LegendStop] = []
    for value in np.linspace(low, high, stops):
        index = int(np.clip(np.rint((value - low) / (high - low) * 255.0), 0, 255))
        r, g, b, a = (int(c) for c in table[index])
        result.append(
            LegendStop(value=float(value), color=f"#{r:02x}{g:02x}{b:02x}", rgba=(r, g, b, a))
        )
    return result
