"""What a Dask worker runs: evaluate one chunk of a batch job with its own engine.

Tasks carry paths and plain values (catalog paths, settings, the graph as JSON), never
server objects, so any worker with the package installed and access to the data paths
can run them. Each worker process builds its engine once per (catalogs, settings) and
compiles each graph once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import open_catalog
from ..cube import Cube
from ..engine import CACHED, Engine
from ..errors import ArgumentInvalid, NoData
from ..evaluate import CompiledGraph
from ..formats import OutputSpec, check_encodable
from ..jobgraphs import registry_for
from ..processes.registry import DRAFT
from ..settings import Settings
from ..window import Window
from .layout import file_values, layout_for


@dataclass(frozen=True)
class EngineSpec:
    """How a worker builds its engine: the local catalog files and the settings (which name
    the remote catalogs and STAC APIs)."""

    catalog_paths: tuple[str, ...]
    settings: Settings


@dataclass(frozen=True)
class ChunkTask:
    """One chunk to evaluate: the graph, the output options, the dates and the window."""

    engine: EngineSpec
    graph_json: str
    spec: OutputSpec
    times: tuple[datetime, ...] | None
    """The dates of the whole result's time axis (None when time is reduced away)."""
    window: Window
    dialect: str = DRAFT
    """The API the graph was written for (its processes' meanings)."""


@dataclass(frozen=True)
class ChunkResult:
    """A chunk's file values (None when no data lies under it) and its mask band."""

    values: np.ndarray | None
    mask: np.ndarray | None
    bands: tuple[str, ...]
    dtype: str


@lru_cache(maxsize=4)
def worker_engine(spec: EngineSpec) -> Engine:
    """The engine of this worker process for ``spec``, built on first use."""
    catalog = open_catalog([Path(p) for p in spec.catalog_paths], spec.settings)
    return Engine(catalog, spec.settings)


@lru_cache(maxsize=32)
def _compiled(spec: EngineSpec, graph_json: str, dialect: str) -> CompiledGraph:
    """The graph compiled once per worker process (stored graphs it referenced are
    already in place: workers have no store)."""
    return worker_engine(spec).compile(json.loads(graph_json), registry_for(dialect))


def evaluate_chunk(task: ChunkTask) -> ChunkResult:
    """Evaluate the graph on the chunk's window and return the values to write."""
    engine = worker_engine(task.engine)
    compiled = _compiled(task.engine, task.graph_json, task.dialect)
    try:
        result: Any = engine.evaluate(compiled, task.window, policy=CACHED)
    except NoData:
        bands = compiled.result_type.bands or ()
        return ChunkResult(None, None, tuple(bands), "")
    if not isinstance(result, Cube):
        raise ArgumentInvalid(
            f"The process graph returns {type(result).__name__}, not a raster; batch results "
            "of this type are not supported"
        )
    dates = 1 if task.times is None else len(task.times)
    check_encodable(task.spec, result.data.dtype, len(result.bands), date_count=dates)
    layout = layout_for(result.data.dtype, task.spec, result.bands, task.times)
    values, mask = file_values(result, layout)
    return ChunkResult(values, mask, result.bands, layout.dtype)
