"""The process registry: every process declared once, with its implementation.

``REGISTRY`` is the default, immutable registry; ``REGISTRY.register(...)`` returns a
new one. :func:`describe` and :func:`list_processes` serve ``GET /processes``.
The evaluation contract (views, context, ``as_cube``) lives in :mod:`.context`.
"""

from __future__ import annotations

from typing import Any

from . import (
    apply,
    arith,
    bandmath,
    collection,
    cubes,
    logic,
    math,
    output,
    periods,
    reduce,
    resample,
    spatial,
    stac,
    statistics,
    vector,
    zonal,
)
from .context import (
    ClassMask,
    CollectionView,
    CubeMask,
    EvalContext,
    LabelledArray,
    as_cube,
    select_bands,
)
from .output import output_options, result_output
from .registry import Parameter, Process, Registry
from .types import CatalogLike, CollectionLike, ValueType
from .walk import ChildProcess, reachable, resolve_arguments, run_graph

__all__ = [
    "OPENEO_REGISTRY",
    "REGISTRY",
    "CatalogLike",
    "ChildProcess",
    "ClassMask",
    "CollectionLike",
    "CollectionView",
    "CubeMask",
    "EvalContext",
    "LabelledArray",
    "Parameter",
    "Process",
    "Registry",
    "ValueType",
    "as_cube",
    "describe",
    "list_processes",
    "openeo_process_list",
    "output_options",
    "result_output",
    "reachable",
    "resolve_arguments",
    "run_graph",
    "select_bands",
]

REGISTRY = Registry(
    (
        *collection.PROCESSES,
        *bandmath.PROCESSES,
        *reduce.PROCESSES,
        *math.PROCESSES,
        *output.PROCESSES,
        *zonal.PROCESSES,
        *arith.PROCESSES,
        *logic.PROCESSES,
        *statistics.PROCESSES,
        *apply.PROCESSES,
        *periods.PROCESSES,
        *spatial.PROCESSES,
        *cubes.PROCESSES,
        *resample.PROCESSES,
        *vector.PROCESSES,
        *stac.PROCESSES,
    )
)
"""The default registry of every built-in process (the draft's meanings, served at ``/``)."""
OPENEO_REGISTRY = REGISTRY.openeo()
"""The same processes read with openEO 1.x meanings (exclusive end dates): ``/openeo/1.2/``."""


def describe(process_id: str) -> dict[str, Any]:
    """``GET /processes/{id}`` from the default registry (aliases accepted)."""
    return REGISTRY.describe(process_id)


def list_processes() -> list[dict[str, Any]]:
    """``GET /processes`` from the default registry."""
    return REGISTRY.list_processes()


def openeo_process_list(registry: Registry = REGISTRY) -> dict[str, Any]:
    """The openEO 1.2 ``GET /processes`` body: ``{"processes": [...], "links": []}``."""
    return {"processes": [p.openeo_description() for p in registry], "links": []}
