"""Fakes shared by the graph and process tests: a tiny catalog and an in-memory context.

No tests here; ``FakeContext.load`` serves cubes built from numpy arrays and records
every call so tests can assert which bands were read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ondemand.cube import Cube
from ondemand.errors import BandNotFound, CollectionNotFound
from ondemand.processes.context import CollectionView
from ondemand.window import Window

UTM = CRS.from_epsg(32632)
TRANSFORM = Affine(10.0, 0.0, 652000.0, 0.0, -10.0, 5181000.0)
WINDOW = Window(UTM, (652000.0, 5180960.0, 652040.0, 5181000.0), 4, 4)
TIMES = tuple(datetime(2017, 1, d, 10, tzinfo=UTC) for d in (5, 15, 31))


@dataclass(frozen=True)
class FakeBand:
    name: str
    band_id: str
    common_name: str | None = None


@dataclass(frozen=True)
class FakeCollection:
    id: str
    bands: tuple[FakeBand, ...]
    crs: CRS = UTM
    interval: tuple[datetime, datetime] = (TIMES[0], TIMES[-1])

    def band(self, ref: str | int) -> FakeBand:
        for b in self.bands:
            if str(ref) in (b.name, b.band_id) or (b.common_name and str(ref) == b.common_name):
                return b
        raise BandNotFound(f"Collection {self.id!r} has no band {ref!r}")


S2 = FakeCollection(
    "S2_L2A_T32TPS_20M",
    (
        FakeBand("B02", "2", "blue"),
        FakeBand("B04", "4", "red"),
        FakeBand("B08", "8", "nir"),
        FakeBand("B8A", "8a"),
        FakeBand("SCL", "scl"),
    ),
)


@dataclass(frozen=True)
class FakeCatalog:
    collections: Mapping[str, FakeCollection]

    def get(self, collection_id: str) -> FakeCollection:
        if collection_id not in self.collections:
            raise CollectionNotFound(f"Collection {collection_id!r} not found")
        return self.collections[collection_id]


CATALOG = FakeCatalog({S2.id: S2})


def s2_arrays(seed: int = 0) -> dict[str, np.ma.MaskedArray]:
    """(t, y, x) float32 arrays per band with some masked pixels and SCL classes."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ma.MaskedArray] = {}
    for name in ("B02", "B04", "B08", "B8A"):
        data = rng.uniform(0.0, 0.5, (len(TIMES), 4, 4)).astype(np.float32)
        mask = rng.random((len(TIMES), 4, 4)) < 0.2
        out[name] = np.ma.MaskedArray(data, mask=mask)
    out["B04"][0, 0, 0] = out["B08"][0, 0, 0] = 0.0  # red + nir == 0
    out["B04"].mask[0, 0, 0] = out["B08"].mask[0, 0, 0] = False
    out["B04"][:, 3, 3] = np.ma.masked  # masked at every date
    scl = rng.choice([4, 5, 3, 8, 9, 10, 6], size=(len(TIMES), 4, 4)).astype(np.float32)
    out["SCL"] = np.ma.MaskedArray(scl, mask=np.zeros(scl.shape, bool))
    out["SCL"].mask[1, 2, 2] = True
    return out


@dataclass
class FakeContext:
    """An evaluation context reading from numpy arrays; records each load."""

    arrays: Mapping[str, np.ma.MaskedArray]
    window: Window = WINDOW
    catalog: FakeCatalog = CATALOG
    times: tuple[datetime, ...] = TIMES
    loads: list[tuple[str, ...]] = field(default_factory=list)

    def load(self, view: CollectionView, bands: Sequence[str] | None) -> Cube:
        names = tuple(view.band_names if bands is None else bands)
        self.loads.append(names)
        keep = [
            i for i, t in enumerate(self.times)
            if (view.start is None or t >= view.start) and (view.end is None or t <= view.end)
        ]
        data = np.ma.stack([self.arrays[n][keep] for n in names], axis=1).astype(np.float32)
        return Cube(np.ma.MaskedArray(data, mask=np.ma.getmaskarray(data)),
                    tuple(self.times[i] for i in keep), names, self.window.crs,
                    self.window.transform)


def cube_of(arrays: Mapping[str, np.ma.MaskedArray], names: Sequence[str]) -> Cube:
    """A cube of these bands at all times."""
    data = np.ma.stack([arrays[n] for n in names], axis=1).astype(np.float32)
    return Cube(np.ma.MaskedArray(data, mask=np.ma.getmaskarray(data)), TIMES, tuple(names),
                UTM, TRANSFORM)
