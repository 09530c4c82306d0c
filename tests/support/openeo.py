"""Run openEO 1.x graphs through the engine on real data (no HTTP), and read sources directly.

``Runner`` compiles with the openEO dialect (exclusive end dates) unless told
``draft=True`` and evaluates on the graph's native window, as ``POST /jobs/execute``
does. The ``read_*`` helpers read the source files with rasterio alone, for the
independent side of every comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from ondemand.catalog import Catalog
from ondemand.engine import Engine, Policy
from ondemand.evaluate import CompiledGraph
from ondemand.formats import OutputSpec
from ondemand.processes import OPENEO_REGISTRY, REGISTRY
from ondemand.settings import Settings
from ondemand.window import Window

UNLIMITED = Policy(limits=False, cache=False)
"""Evaluate like a batch run without a cache: every value is computed from the files."""
DATA = {"from_parameter": "data"}
X = {"from_parameter": "x"}
LANDSAT = "landsat8-ny-2018"
LANDSAT_SCENE = "LC08_L1TP_013032_20180405"
"""One Landsat 8 scene of ``LANDSAT`` (path 013, row 032, 2018-04-05; EPSG:32618)."""
LANDSAT_DATES = ["2018-04-05", "2018-04-06"]
"""The dates of ``LANDSAT_SCENE`` alone (the end is exclusive in openEO)."""


def flat(*nodes: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A flat graph of ``(id, process, arguments)``; the last node is the result."""
    out = {nid: {"process_id": pid, "arguments": args} for nid, pid, args in nodes}
    out[nodes[-1][0]]["result"] = True
    return {"process_graph": out}


def child(pid: str, **arguments: Any) -> dict[str, Any]:
    """A one-node child graph, e.g. ``child("mean", data=DATA)``."""
    return {"process_graph": {"r": {"process_id": pid, "arguments": arguments,
                                    "result": True}}}


def ref(node: str) -> dict[str, str]:
    """``{"from_node": node}``."""
    return {"from_node": node}


def load_landsat(
    bands: list[str], node: str = "load", dates: list[str] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """A ``load_collection`` node of ``LANDSAT``'s ``bands`` (default: ``LANDSAT_SCENE``'s date)."""
    return (node, "load_collection", {"id": LANDSAT, "spatial_extent": None,
                                      "temporal_extent": dates or LANDSAT_DATES,
                                      "bands": bands})


class Runner:
    """An engine over some collections of the real data, evaluating like a download."""

    def __init__(self, folders: Sequence[Path], stac_roots: Sequence[Path] = ()) -> None:
        catalog = Catalog.load([f / "collection.json" for f in folders], stac_roots)
        self.engine = Engine(catalog, Settings())

    def compile(self, doc: dict[str, Any], *, draft: bool = False) -> CompiledGraph:
        """Parse, validate and plan in the openEO (default) or the draft dialect."""
        return self.engine.compile(doc, REGISTRY if draft else OPENEO_REGISTRY)

    def run(self, doc: dict[str, Any], *, draft: bool = False, window: Window | None = None
            ) -> Any:
        """The result (a Cube or a Table) on ``window`` (default: the graph's), without limits."""
        compiled = self.compile(doc, draft=draft)
        if window is None:
            window = self.engine.output_window(compiled, OutputSpec())
        return self.engine.evaluate(compiled, window, policy=UNLIMITED)

    def close(self) -> None:
        """Stop the engine's read threads."""
        self.engine.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_window(path: Path) -> Window:
    """The exact grid of one file: reads on it are the file's own pixels."""
    with rasterio.open(path) as src:
        return Window(src.crs, tuple(src.bounds), src.width, src.height)


def item_folders(collection: Path) -> list[Path]:
    """The distinct item folders of a collection, in date order."""
    found = []
    for folder in sorted(p for p in collection.iterdir() if p.is_dir()):
        doc = json.loads((folder / f"{folder.name}.json").read_text())
        found.append((doc["properties"]["datetime"], folder))
    return [f for _, f in sorted(found)]


def item_date(folder: Path) -> datetime:
    """The datetime of an item folder's STAC item."""
    doc = json.loads((folder / f"{folder.name}.json").read_text())
    return datetime.fromisoformat(doc["properties"]["datetime"].replace("Z", "+00:00"))


def band_file(folder: Path, band: str) -> Path:
    """The file of ``band`` in an item folder (``NDVI.tif``, ``..._B4.TIF``)."""
    for path in sorted(folder.iterdir()):
        stem = path.stem.upper()
        if path.suffix.lower() == ".tif" and (stem == band.upper()
                                               or stem.endswith(f"_{band.upper()}")):
            return path
    raise FileNotFoundError(f"no {band} file in {folder}")


def read_band(folder: Path, band: str, nodata: float | None = None) -> np.ma.MaskedArray:
    """One band file as float64, masked where no data (NaN, or ``nodata``)."""
    with rasterio.open(band_file(folder, band)) as src:
        raw = src.read(1).astype(np.float64)
    bad = ~np.isfinite(raw)
    if nodata is not None:
        bad |= raw == nodata
    return np.ma.MaskedArray(raw, mask=bad)


def read_stack(folders: Sequence[Path], band: str, nodata: float | None = None
               ) -> np.ma.MaskedArray:
    """``(t, y, x)`` of one band of several items on one grid."""
    return np.ma.stack([read_band(f, band, nodata) for f in folders])


def assert_close(actual: np.ma.MaskedArray, expected: np.ma.MaskedArray,
                 rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Same mask, and close values where valid (float32 results against float64 numpy)."""
    np.testing.assert_array_equal(np.ma.getmaskarray(actual), np.ma.getmaskarray(expected))
    keep = ~np.ma.getmaskarray(expected)
    np.testing.assert_allclose(np.ma.getdata(actual)[keep].astype(np.float64),
                               np.ma.getdata(expected)[keep], rtol=rtol, atol=atol)
