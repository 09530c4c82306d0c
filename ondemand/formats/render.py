"""Render results to 8-bit pictures (PNG, JPEG): stretch, colormap, mask to alpha.

Defaults, also listed by :func:`~ondemand.formats.options.output_formats`:

- **1 band, NDVI-like** (float data whose valid values all lie within -1..1):
  colormap ``rdylgn`` (red-yellow-green, diverging) over the range [-1, 1].
- **1 band, other data**: grayscale, linear stretch from the data's min to max.
  A given ``colormap`` or ``rescale`` replaces only its own default.
- **3 bands** (red, green, blue): uint8 data is shown as is (0..255); other data
  gets one common linear stretch from the 2nd to the 98th percentile of the valid
  values of all three bands (one range keeps the color balance).
- Values outside the range clip to its ends; constant data maps to the low end.
- **Masks**: NaN and infinite values count as masked. A pixel masked in any
  rendered band is transparent in PNG (RGBA, alpha 0) and black (0, 0, 0) in
  JPEG, which has no transparency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rio_tiler.utils import render as rio_render

from ..cube import Cube
from ..errors import OutputOptionInvalid
from .colormaps import NDVI_COLORMAP, colormap_lut
from .options import BandRef, OutputSpec

ImageFormat = Literal["png", "jpeg"]
Range = tuple[float, float]

JPEG_MASK_COLOR = (0, 0, 0)
"""Color of masked pixels in JPEG output."""
DEFAULT_JPEG_QUALITY = 75
RGB_PERCENTILES = (2.0, 98.0)


def default_style(data: np.ma.MaskedArray) -> tuple[str | None, list[Range]]:
    """Return the default ``(colormap, rescale)`` for ``(bands, h, w)`` data (see module doc)."""
    valid = np.ma.compressed(data)
    if data.shape[0] == 1:
        if valid.size == 0:
            return None, [(0.0, 1.0)]
        low, high = float(valid.min()), float(valid.max())
        if data.dtype.kind == "f" and low >= -1.0 and high <= 1.0:
            return NDVI_COLORMAP, [(-1.0, 1.0)]
        return None, [_non_empty(low, high)]
    if data.dtype == np.uint8:
        return None, [(0.0, 255.0)]
    if valid.size == 0:
        return None, [(0.0, 1.0)]
    low, high = (float(v) for v in np.percentile(valid, RGB_PERCENTILES))
    return None, [_non_empty(low, high)]


def _non_empty(low: float, high: float) -> Range:
    return (low, high) if high > low else (low, low + 1.0)


def _to_byte(band: np.ndarray, rng: Range) -> np.ndarray:
    low, high = rng
    scaled = (band.astype(np.float32, copy=False) - np.float32(low)) * np.float32(
        255.0 / (high - low)
    )
    np.clip(scaled, 0.0, 255.0, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.uint8)


@dataclass(frozen=True)
class Rendered:
    """An 8-bit rendering: RGB, the colormap's alpha, the mask and the style used."""

    rgb: np.ndarray
    """``(3, h, w)`` uint8."""
    alpha: np.ndarray
    """``(h, w)`` uint8 from the colormap (255 for RGB), before masking."""
    mask: np.ndarray
    """``(h, w)`` bool: no data in some rendered band (NaN and infinities included)."""
    colormap: str | None
    """The colormap of a 1-band rendering (``None``: gray ramp; always None for RGB)."""
    ranges: list[Range]
    """The value range stretched to 0..255, one per rendered band."""

    def describe(self) -> str:
        """The style in words, e.g. ``colormap rdylgn over [-1, 1]``."""
        spans = ", ".join(f"[{low:g}, {high:g}]" for low, high in self.ranges)
        if self.rgb.shape[0] == 3 and len(self.ranges) == 3:
            return f"red, green and blue stretched over {spans}"
        return f"colormap {self.colormap or 'gray'} over {spans}"


def render_rgb(
    data: np.ma.MaskedArray,
    colormap: str | None = None,
    rescale: Sequence[Range] | None = None,
) -> Rendered:
    """Render ``(bands, h, w)`` masked data (1 or 3 bands) to 8-bit RGB (see module doc).

    ``colormap`` (1 band only) and ``rescale`` (one ``(min, max)`` for all bands or
    one per band) default as described in the module docstring.
    """
    if data.ndim != 3 or data.shape[0] not in (1, 3):
        raise OutputOptionInvalid(
            f"A picture renders 1 band (colormapped) or 3 bands (RGB), got shape {data.shape}"
        )
    count = data.shape[0]
    if data.dtype.kind == "f":
        data = np.ma.masked_invalid(data, copy=False)
    if colormap is not None and count != 1:
        raise OutputOptionInvalid(
            "colormap applies to a 1-band result but 3 bands are rendered as RGB; "
            "drop colormap or pick one band"
        )
    default_cmap, default_ranges = (
        default_style(data) if colormap is None or rescale is None else (None, [])
    )
    ranges = default_ranges * count if rescale is None else _ranges(count, rescale)
    mask = np.asarray(np.ma.getmaskarray(data).any(axis=0))
    values = np.ma.filled(data, 0) if data.dtype.kind == "f" else np.ma.getdata(data)
    if count == 1:
        cmap = colormap if colormap is not None else default_cmap
        rgba = colormap_lut(cmap).T[:, _to_byte(values[0], ranges[0])]
        return Rendered(rgba[:3], rgba[3], mask, cmap, ranges)
    rgb = np.stack([_to_byte(values[i], ranges[i]) for i in range(3)])
    return Rendered(rgb, np.full(mask.shape, 255, dtype=np.uint8), mask, None, ranges)


def render_image(
    data: np.ma.MaskedArray,
    fmt: ImageFormat,
    colormap: str | None = None,
    rescale: Sequence[Range] | None = None,
    *,
    quality: int | None = None,
    zlevel: int | None = None,
) -> bytes:
    """Encode ``(bands, h, w)`` masked data (1 or 3 bands) as a PNG (RGBA) or JPEG (RGB).

    Styles as :func:`render_rgb`. ``quality`` is the JPEG quality (default 75),
    ``zlevel`` the PNG deflate level (GDAL default 6).
    """
    kind = fmt.lower()
    if kind not in ("png", "jpeg", "jpg"):
        raise OutputOptionInvalid(f"Picture format {fmt!r} is not one of png, jpeg")
    rendered = render_rgb(data, colormap, rescale)
    rgb, mask = rendered.rgb, rendered.mask
    if kind == "png":
        alpha = np.where(mask, np.uint8(0), rendered.alpha)
        if zlevel is None:
            return rio_render(np.ascontiguousarray(rgb), alpha, img_format="PNG")
        return rio_render(np.ascontiguousarray(rgb), alpha, img_format="PNG", ZLEVEL=zlevel)
    jpeg_quality = DEFAULT_JPEG_QUALITY if quality is None else quality
    return rio_render(np.ascontiguousarray(masked_black(rgb, mask)), img_format="JPEG",
                      QUALITY=jpeg_quality)


def masked_black(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``rgb`` with masked pixels set to :data:`JPEG_MASK_COLOR` (a copy when any is)."""
    if not mask.any():
        return rgb
    rgb = rgb.copy()
    for channel, value in enumerate(JPEG_MASK_COLOR):
        rgb[channel][mask] = value
    return rgb


def _ranges(count: int, rescale: Sequence[Range]) -> list[Range]:
    ranges = [(float(low), float(high)) for low, high in rescale]
    if len(ranges) not in (1, count):
        raise OutputOptionInvalid(
            f"rescale gives {len(ranges)} ranges for {count} rendered bands; "
            "give one [min, max] or one per band"
        )
    for low, high in ranges:
        if not high > low:
            raise OutputOptionInvalid(f"rescale range [{low}, {high}] needs min < max")
    return ranges * count if len(ranges) == 1 else ranges


def select_bands(cube: Cube, refs: Sequence[BandRef] | None) -> list[int]:
    """Resolve band names or 1-based numbers to 0-based indices of the cube's band axis."""
    if refs is None:
        return list(range(len(cube.bands)))
    indices: list[int] = []
    for ref in refs:
        if isinstance(ref, int):
            if not 1 <= ref <= len(cube.bands):
                raise OutputOptionInvalid(
                    f"Invalid value {ref!r} for the output format argument 'bands': the result "
                    f"has {len(cube.bands)} band(s) ({', '.join(cube.bands)})"
                )
            indices.append(ref - 1)
        elif ref in cube.bands:
            indices.append(cube.bands.index(ref))
        else:
            raise OutputOptionInvalid(
                f"Invalid value {ref!r} for the output format argument 'bands': the result "
                f"has bands {', '.join(cube.bands)}"
            )
    return indices


def render(cube: Cube, spec: OutputSpec) -> bytes:
    """Render a cube to PNG or JPEG bytes as ``spec`` asks.

    A cube with a time dimension renders its **last** date only; select another
    date with the window's time selection. ``spec.bands`` picks 1 or 3 bands.
    """
    if spec.format not in ("PNG", "JPEG"):
        raise OutputOptionInvalid(f"format={spec.format} is not a rendered picture format")
    indices = select_bands(cube, spec.bands)
    data = cube.data[-1][indices]
    fmt: ImageFormat = "png" if spec.format == "PNG" else "jpeg"
    return render_image(
        data,
        fmt,
        spec.colormap,
        None if spec.rescale is None else list(spec.rescale),
        quality=spec.jpeg_quality,
        zlevel=spec.zlevel,
    )
