"""The data cube passed between processes: a masked 4-D array and its grid."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from affine import Affine
from rasterio.crs import CRS


@dataclass(frozen=True)
class Cube:
    """Masked array with dimensions ``(t, bands, y, x)`` on a georeferenced grid.

    ``times`` labels the time axis; ``None`` means the time dimension was reduced
    away (the axis then has length 1). ``bands`` labels the band axis. The mask is
    always a full boolean array: ``True`` marks pixels without data. Processes
    return new cubes and never mutate their inputs.
    """

    data: np.ma.MaskedArray
    times: tuple[datetime, ...] | None
    bands: tuple[str, ...]
    crs: CRS
    transform: Affine

    def __post_init__(self) -> None:
        if self.data.ndim != 4:
            raise ValueError(f"Cube data must be 4-D (t, bands, y, x), got {self.data.shape}")
        n_t = 1 if self.times is None else len(self.times)
        if self.data.shape[0] != n_t or self.data.shape[1] != len(self.bands):
            raise ValueError(
                f"Cube shape {self.data.shape} does not match {n_t} times and "
                f"{len(self.bands)} bands"
            )

    @property
    def height(self) -> int:
        """Rows of the grid."""
        return int(self.data.shape[2])

    @property
    def width(self) -> int:
        """Columns of the grid."""
        return int(self.data.shape[3])

    @property
    def has_time(self) -> bool:
        """Whether the cube still has a time dimension."""
        return self.times is not None

    def with_data(
        self,
        data: np.ma.MaskedArray,
        *,
        times: tuple[datetime, ...] | None | str = "keep",
        bands: tuple[str, ...] | None = None,
    ) -> Cube:
        """Return a new cube on the same grid with new data (and labels where given)."""
        new_times = self.times if times == "keep" else times
        assert not isinstance(new_times, str)
        return replace(
            self,
            data=full_mask(data),
            times=new_times,
            bands=self.bands if bands is None else bands,
        )


def full_mask(data: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """Return ``data`` with its mask expanded to a full boolean array."""
    mask = np.ma.getmaskarray(data)
    return np.ma.MaskedArray(np.ma.getdata(data), mask=mask, copy=False)
