"""Evaluate a graph node by node: the walker used for child graphs (reducers).

Arguments are resolved before an implementation runs: a :class:`NodeRef` becomes
that node's value, a :class:`ParamRef` the parameter's value, and a
:class:`ChildGraph` a :class:`ChildProcess` the implementation can call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import ArgumentInvalid
from ..graph import ChildGraph, Graph, Node, NodeRef, ParamRef
from .context import EvalContext
from .registry import Registry


@dataclass(frozen=True, eq=False)
class ChildProcess:
    """A child graph bound to a registry and context; call it with its parameters."""

    graph: Graph
    registry: Registry
    ctx: EvalContext

    def __call__(self, **params: Any) -> Any:
        """Evaluate the child graph with these parameter values."""
        return run_graph(self.graph, self.ctx, self.registry, params)


def run_graph(
    graph: Graph, ctx: EvalContext, registry: Registry, params: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate the nodes the result depends on, in order, and return the result's value."""
    values: dict[str, Any] = {}
    needed = reachable(graph)
    for node_id in graph.order():
        if node_id in needed:
            node = graph.nodes[node_id]
            args = resolve_arguments(node, values, params or {}, ctx, registry)
            values[node_id] = registry.get(node.process_id).implementation(args, ctx)
    return values[graph.result]


def reachable(graph: Graph, node_id: str | None = None) -> frozenset[str]:
    """Ids of the nodes ``node_id`` (default: the result) depends on, itself included."""
    start = graph.result if node_id is None else node_id
    seen = {start}
    stack = [start]
    while stack:
        for ref in graph.nodes[stack.pop()].refs():
            if ref.node_id not in seen:
                seen.add(ref.node_id)
                stack.append(ref.node_id)
    return frozenset(seen)


def leaves(value: Any) -> Iterator[Any]:
    """The values inside an argument value: through objects and arrays, not child graphs."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, tuple):
            stack.extend(v)
        else:
            yield v


def resolve_arguments(
    node: Node,
    values: Mapping[str, Any],
    params: Mapping[str, Any],
    ctx: EvalContext,
    registry: Registry,
) -> Mapping[str, Any]:
    """A node's arguments with references replaced by values (see module docstring)."""

    def resolve(value: Any) -> Any:
        if isinstance(value, NodeRef):
            return values[value.node_id]
        if isinstance(value, ParamRef):
            if value.name not in params:
                raise ArgumentInvalid(
                    f"Node {node.id!r} ({node.process_id}): parameter {value.name!r} is not "
                    "defined here"
                )
            return params[value.name]
        if isinstance(value, ChildGraph):
            return ChildProcess(value.graph, registry, ctx)
        if isinstance(value, Mapping):
            return MappingProxyType({k: resolve(v) for k, v in value.items()})
        if isinstance(value, tuple):
            return tuple(resolve(v) for v in value)
        return value

    return MappingProxyType({name: resolve(v) for name, v in node.arguments.items()})
