"""The one shape of every pixel request: a target grid plus a time selection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal, get_args

from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError

from .errors import ArgumentInvalid, InvalidCRS

Bounds = tuple[float, float, float, float]
"""``(left, bottom, right, top)`` in the window's CRS."""


@lru_cache(maxsize=256)
def parse_crs(text: str | int) -> CRS:
    """Parse ``EPSG:4326``, an EPSG number, an OGC URI, WKT or PROJ text into a CRS."""
    if isinstance(text, int):
        text = f"EPSG:{text}"
    value = text.strip()
    if value.startswith("http://www.opengis.net/def/crs/") or value.startswith("urn:ogc:def:crs:"):
        value = _ogc_crs_to_user_input(value)
    try:
        return CRS.from_user_input(value)
    except (CRSError, ValueError, TypeError) as exc:
        raise InvalidCRS(f"Invalid CRS {text!r}: {exc}") from None


def _ogc_crs_to_user_input(uri: str) -> str:
    """Map OGC CRS URIs and URNs to ``AUTH:CODE`` (CRS84 becomes OGC:CRS84)."""
    parts = [p for p in uri.replace("urn:ogc:def:crs:", "").replace("::", ":").split("/") if p]
    if uri.startswith("urn:"):
        auth, _, code = uri[len("urn:ogc:def:crs:"):].partition(":")
        code = code.split(":")[-1]
    else:
        auth, code = parts[-3], parts[-1]
    return f"{auth}:{code}"


Resampling = Literal["nearest", "bilinear", "cubic", "average", "mode"]
"""How source pixels meet a window's grid when it differs from theirs (default: nearest)."""
RESAMPLING_METHODS: tuple[Resampling, ...] = get_args(Resampling)


@dataclass(frozen=True)
class Window:
    """A target grid (CRS, bounds, width, height) and an optional time selection.

    ``times`` restricts evaluation to those acquisition datetimes (exact labels of
    the cube's time axis); ``None`` keeps every date the graph selects. ``resampling``
    is how source pixels meet this grid (nearest by default: at the native grid no
    pixel moves).
    """

    crs: CRS
    bounds: Bounds
    width: int
    height: int
    times: tuple[datetime, ...] | None = None
    resampling: Resampling = "nearest"

    def __post_init__(self) -> None:
        if self.resampling not in RESAMPLING_METHODS:
            choices = ", ".join(RESAMPLING_METHODS)
            raise ArgumentInvalid(f"Unknown resampling {self.resampling!r}; use one of {choices}")
        left, bottom, right, top = self.bounds
        if self.width < 1 or self.height < 1:
            raise ArgumentInvalid(f"Window size must be positive, got {self.width}x{self.height}")
        if not (right > left and top > bottom):
            raise ArgumentInvalid(f"Window bounds {self.bounds} are empty or inverted")

    @property
    def transform(self) -> Affine:
        """The affine transform of the target grid (north up)."""
        left, bottom, right, top = self.bounds
        return Affine(
            (right - left) / self.width, 0.0, left, 0.0, -(top - bottom) / self.height, top
        )

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size ``(x, y)`` in CRS units."""
        left, bottom, right, top = self.bounds
        return (right - left) / self.width, (top - bottom) / self.height

    @property
    def pixels(self) -> int:
        """Number of pixels in one band of one date."""
        return self.width * self.height

    def key(self) -> str:
        """A stable text form for cache keys."""
        times = ",".join(t.isoformat() for t in self.times) if self.times is not None else "*"
        bounds = ",".join(repr(float(v)) for v in self.bounds)
        return (
            f"{self.crs.to_string()}|{bounds}|{self.width}x{self.height}|{times}|{self.resampling}"
        )
