"""A table result (e.g. of ``zonal_statistics``): named columns and an optional geometry per row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.crs import CRS


@dataclass(frozen=True, eq=False)
class Table:
    """Rows of named columns; values are None, bool, int, float, str or aware datetimes.

    ``geometries`` (shapely objects, one per row, in ``crs``) is ``None`` for a table
    without geometry.
    """

    columns: Mapping[str, list[Any]]
    geometries: np.ndarray | None = None
    crs: CRS | None = None

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.columns.values()}
        if self.geometries is not None:
            lengths.add(len(self.geometries))
        if len(lengths) > 1:
            raise ValueError(f"Table columns have different lengths: {sorted(lengths)}")

    @property
    def row_count(self) -> int:
        """Number of rows."""
        for values in self.columns.values():
            return len(values)
        return 0 if self.geometries is None else len(self.geometries)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (without geometry)."""
        names = list(self.columns)
        return [dict(zip(names, row, strict=True))
                for row in zip(*self.columns.values(), strict=True)]
