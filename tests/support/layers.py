"""The seed job's two layers that tile tests serve, and reading their tiles back."""

from __future__ import annotations

from typing import Any

import numpy as np
import rasterio

from ondemand.engine import Engine
from ondemand.layer import Layer, make_layer
from tests.support.seed import use_case_1_job


def series_graph() -> dict[str, Any]:
    """The seed job without ``min_time``: a time series of NDVI."""
    return dict(use_case_1_job()["process_graph"]["args"]["imagery"])


def min_ndvi_layer(engine: Engine) -> Layer:
    """The seed job (the minimum NDVI over time) as a layer."""
    return make_layer("job1", "Min NDVI", engine.compile(use_case_1_job()["process_graph"]))


def ndvi_series_layer(engine: Engine) -> Layer:
    """:func:`series_graph` as a layer (one NDVI picture per date)."""
    return make_layer("job2", "NDVI", engine.compile(series_graph()))


def read_tif(content: bytes) -> np.ma.MaskedArray:
    """A GeoTIFF tile's bands, masked where no data; its values keep the real float32."""
    with rasterio.MemoryFile(content) as mem, mem.open() as src:
        assert src.dtypes[0] == "float32"
        return src.read(masked=True)
