"""Reductions over time evaluated in bounded groups of dates, for every window.

A reduction over ``t`` (``min_time`` ... ``sd_time``, or ``reduce_dimension`` over ``t``
whose reducer is one of those processes) streams when every process feeding it works
date by date (loads, filters, band math, masks, reductions over bands): its input is
then evaluated on a few dates at a time (the window's time selection narrowed to
them) and folded into a running reducer (:mod:`ondemand.processes.running`). Memory is
window x bands x one group of dates, not window x bands x every date; the result is
the whole-stack result. Anything else (median, a reducer graph of several processes,
inputs that mix collections with different dates) is evaluated whole-stack.

Tiles, coverages, downloads and batch chunks all evaluate through :func:`run_graph`,
so all of them stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from .catalog import Catalog
from .cube import Cube
from .graph import ChildGraph, Graph, Node, NodeRef, ParamRef
from .plan import Load, plan_loads
from .processes.context import CollectionView, EvalContext, as_cube
from .processes.registry import Registry
from .processes.running import RUNNING, running
from .processes.walk import reachable, resolve_arguments
from .read import Acquisition
from .window import Window

DATE_LOCAL = frozenset({
    "load_collection", "filter_bbox", "filter_temporal", "filter_bands", "ndvi", "band_math",
    "mask", "add", "subtract", "multiply", "divide", "normalized_difference",
    "linear_scale_range",
})
"""Processes whose value on some dates is their value on all dates, restricted to those."""

GROUP_PIXELS = 4 * 1024 * 1024
"""Pixels (window x bands x dates) one group of a streamed reduction reads at once."""
MAX_GROUP_DATES = 8
"""Most dates in one group (enough for the read threads to work side by side)."""


@dataclass(frozen=True)
class StreamPlan:
    """A reduction over time that streams: its node, its input node and its reducer."""

    node_id: str
    source: str
    reducer: str
    ignore_nodata: bool
    loads: tuple[Load, ...] = field(repr=False)
    """The reads of the input (each view and its bands)."""

    @property
    def bands(self) -> int:
        """Bands read per date."""
        return sum(len(load.bands) for load in self.loads)


class PassContext(EvalContext, Protocol):
    """An evaluation context that lists dates and opens passes on narrower time selections."""

    def acquisitions(self, view: CollectionView) -> list[Acquisition]:
        """The dates of ``view`` under the window and in its time selection."""

    def check_dates(self, view: CollectionView, count: int) -> None:
        """Raise if one load may not read ``count`` dates."""

    def open_pass(self, window: Window) -> EvalContext:
        """A context like this one on ``window`` whose reads count as a separate pass."""


def plan_streams(graph: Graph, catalog: Catalog, registry: Registry) -> tuple[StreamPlan, ...]:
    """The nodes of ``graph`` that are streamable reductions over time."""
    plans: dict[str, StreamPlan] = {}
    for node_id in reachable(graph):
        found = _reduction(graph.nodes[node_id])
        if found is None:
            continue
        source, reducer, ignore_nodata = found
        if not all(_date_local(graph.nodes[n]) for n in reachable(graph, source)):
            continue
        loads = plan_loads(graph, catalog, registry, node=source)
        if loads:
            plans[node_id] = StreamPlan(node_id, source, reducer, ignore_nodata, loads)
    held = _needed(graph, plans)
    # an input the graph also uses whole is read whole anyway: reduce that, not a re-read
    return tuple(plan for plan in plans.values() if plan.source not in held)


def _reduction(node: Node) -> tuple[str, str, bool] | None:
    """``(input node, reducer name, ignore_nodata)`` of a streamable reduction, else None."""
    data = node.arguments.get("data")
    if not isinstance(data, NodeRef):
        return None
    name = node.process_id.removesuffix("_time")
    if node.process_id.endswith("_time") and name in RUNNING:
        return data.node_id, name, True
    if node.process_id != "reduce_dimension" or node.arguments.get("dimension") != "t":
        return None
    reducer = node.arguments.get("reducer")
    if not isinstance(reducer, ChildGraph) or len(reducer.graph.nodes) != 1:
        return None
    child = reducer.graph.nodes[reducer.graph.result]
    args = dict(child.arguments)
    if child.process_id == "count":  # condition null counts valid values, true all of them
        condition = args.pop("condition", None)
        args.pop("context", None)
        if condition not in (None, True):
            return None
        args["ignore_nodata"] = condition is None
    ignore = args.get("ignore_nodata", True)
    if (
        child.process_id not in RUNNING
        or args.get("data") != ParamRef("data")
        or not isinstance(ignore, bool)
        or set(args) - {"data", "ignore_nodata"}
    ):
        return None
    return data.node_id, child.process_id, ignore


def _date_local(node: Node) -> bool:
    if node.process_id == "reduce_dimension":
        return node.arguments.get("dimension") == "bands"
    return node.process_id in DATE_LOCAL


def run_graph(
    graph: Graph, plans: Sequence[StreamPlan], ctx: PassContext, registry: Registry
) -> Any:
    """Evaluate ``graph`` on ``ctx``'s window, streaming the reductions of ``plans``."""
    streams = {plan.node_id: plan for plan in plans}
    values: dict[str, Any] = {}
    needed = _needed(graph, streams)
    for node_id in graph.order():
        if node_id not in needed or node_id in values:
            continue
        plan = streams.get(node_id)
        if plan is not None:
            streamed = stream_reduction(graph, plan, ctx, registry)
            if streamed is not None:
                values[node_id] = streamed
                continue
            _run_into(graph, plan.source, ctx, registry, values)
        _run_node(graph.nodes[node_id], ctx, registry, values)
    return values[graph.result]


def _needed(graph: Graph, streams: Mapping[str, StreamPlan]) -> frozenset[str]:
    """Nodes the result needs, not descending into the inputs of streamed reductions."""
    seen = {graph.result}
    stack = [graph.result]
    while stack:
        node_id = stack.pop()
        if node_id in streams:
            continue
        for ref in graph.nodes[node_id].refs():
            if ref.node_id not in seen:
                seen.add(ref.node_id)
                stack.append(ref.node_id)
    return frozenset(seen)


def _run_node(node: Node, ctx: EvalContext, registry: Registry, values: dict[str, Any]) -> None:
    args = resolve_arguments(node, values, {}, ctx, registry)
    values[node.id] = registry.get(node.process_id).implementation(args, ctx)


def _run_into(
    graph: Graph, target: str, ctx: EvalContext, registry: Registry, values: dict[str, Any]
) -> None:
    """Evaluate ``target`` and the nodes it needs that ``values`` lacks."""
    needed = reachable(graph, target)
    for node_id in graph.order():
        if node_id in needed and node_id not in values:
            _run_node(graph.nodes[node_id], ctx, registry, values)


def stream_reduction(
    graph: Graph, plan: StreamPlan, ctx: PassContext, registry: Registry
) -> Cube | None:
    """The reduction evaluated group by group; None when its input cannot stream here.

    The input streams when every view it reads has the same dates under the window
    (one collection, or several with the same acquisitions); otherwise, or when there
    are no dates at all (or none is left in the input), the caller evaluates it
    whole-stack, which reports NoData or reduces the empty series as it always did.
    """
    times = _common_times(plan, ctx)
    if not times:
        return None
    reducer = running(plan.reducer, plan.ignore_nodata)
    labels: tuple[str, ...] = ()
    for group in groups(times, group_size(ctx.window.pixels * plan.bands)):
        pass_ctx = ctx.open_pass(replace(ctx.window, times=tuple(group)))
        values: dict[str, Any] = {}
        _run_into(graph, plan.source, pass_ctx, registry, values)
        cube = as_cube(values[plan.source], pass_ctx)
        labels, crs, transform = cube.bands, cube.crs, cube.transform
        for layer in cube.data:
            reducer.add(layer)
        del values, cube
    if reducer.dates == 0:  # every date was filtered out of the input cube
        return None
    return Cube(reducer.result()[None], None, labels, crs, transform)


def _common_times(plan: StreamPlan, ctx: PassContext) -> list[datetime] | None:
    """The dates every view of the input reads, if they are the same for all; else None."""
    found: set[tuple[datetime, ...]] = set()
    for load in plan.loads:
        times = tuple(a.time for a in ctx.acquisitions(load.view))
        ctx.check_dates(load.view, len(times))
        found.add(times)
    if len(found) != 1:
        return None
    return list(found.pop())


def group_size(pixels_per_date: int) -> int:
    """Dates per group: up to :data:`MAX_GROUP_DATES`, within :data:`GROUP_PIXELS`."""
    return max(1, min(MAX_GROUP_DATES, GROUP_PIXELS // max(1, pixels_per_date)))


def groups(times: Sequence[datetime], size: int) -> list[list[datetime]]:
    """``times`` in order, cut into consecutive groups of ``size``."""
    return [list(times[i : i + size]) for i in range(0, len(times), size)]
