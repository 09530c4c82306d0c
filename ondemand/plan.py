"""Planning: the collection reads a graph (or one of its nodes) makes, found without reading.

Lazy processes (load_collection, filters) run for real and narrow views; the first
process that needs pixels records its read and everything after it is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, Item
from .cube import Cube
from .graph import Graph
from .processes import REGISTRY
from .processes.context import CollectionView
from .processes.registry import Registry
from .processes.walk import reachable, resolve_arguments
from .window import Window


@dataclass(frozen=True)
class Load:
    """One read the graph makes: a collection view and the bands asked of it."""

    view: CollectionView
    bands: tuple[str, ...]


class _NeedsPixels(Exception):
    """Raised by the planning context where a process would read pixels."""


class _PlanningContext:
    """Records the loads processes ask for instead of reading."""

    user_files = None
    """Planning reads no file."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.loads: list[Load] = []

    @property
    def window(self) -> Window:
        """Processes that look at the window during planning need pixels."""
        raise _NeedsPixels

    def load(self, view: CollectionView, bands: Sequence[str] | None) -> Cube:
        """Record the read and stop this node."""
        self.loads.append(Load(view, tuple(view.band_names if bands is None else bands)))
        raise _NeedsPixels

    def load_native(
        self, view: CollectionView, bands: Sequence[str] | None, item: Item, window: Window
    ) -> Cube:
        """Record the read of ``view`` and stop this node."""
        return self.load(view, bands)


_UNKNOWN = object()


def plan_loads(
    graph: Graph,
    catalog: Catalog,
    registry: Registry = REGISTRY,
    node: str | None = None,
) -> tuple[Load, ...]:
    """List each collection read (with its bands) that ``node`` (default: the result) needs.

    A node whose value is itself a view reads all of its selected bands.
    """
    target = graph.result if node is None else node
    ctx = _PlanningContext(catalog)
    values: dict[str, Any] = {}
    needed = reachable(graph, target)
    for node_id in graph.order():
        if node_id not in needed:
            continue
        current = graph.nodes[node_id]
        if any(values.get(ref.node_id) is _UNKNOWN for ref in current.refs()):
            values[node_id] = _UNKNOWN
            continue
        args = resolve_arguments(current, values, {}, ctx, registry)
        try:
            values[node_id] = registry.get(current.process_id).implementation(args, ctx)
        except _NeedsPixels:
            values[node_id] = _UNKNOWN
            for view in _views_in(args):
                if not any(load.view is view for load in ctx.loads):
                    ctx.loads.append(Load(view, view.band_names))
    result = values.get(target)
    if isinstance(result, CollectionView):
        ctx.loads.append(Load(result, result.band_names))
    return tuple(ctx.loads)


def _views_in(value: Any) -> Iterator[CollectionView]:
    """Every collection view inside resolved arguments."""
    if isinstance(value, CollectionView):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _views_in(v)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _views_in(v)
