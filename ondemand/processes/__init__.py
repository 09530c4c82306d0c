"""The process registry: every process declared once, with its implementation.

``REGISTRY`` is the default, immutable registry; ``REGISTRY.register(...)`` returns a
new one. :func:`describe` and :func:`list_processes` serve ``GET /processes``.
The evaluation contract (views, context, ``as_cube``) lives in :mod:`.context`.
"""

from __future__ import annotations

from typing import Any

from . import bandmath, collection, math, output, reduce, zonal
from .context import (
    ClassMask,
    CollectionView,
    CubeMask,
    EvalContext,
    LabelledArray,
    as_cube,
    select_bands,
)
from .output import output_options
from .registry import Parameter, Process, Registry
from .types import CatalogLike, CollectionLike, ValueType
from .walk import ChildProcess, reachable, resolve_arguments, run_graph

__all__ = [
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
    "output_options",
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
    )
)
"""The default registry of every built-in process."""


def describe(process_id: str) -> dict[str, Any]:
    """``GET /processes/{id}`` from the default registry (aliases accepted)."""
    return REGISTRY.describe(process_id)


def list_processes() -> list[dict[str, Any]]:
    """``GET /processes`` from the default registry."""
    return REGISTRY.list_processes()
