"""Validate a parsed graph against the process declarations and the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ArgumentInvalid, ArgumentMissing, ArgumentUnsupported
from ..graph import ChildGraph, Graph, Node, NodeRef, ParamRef
from .registry import Process, Registry
from .types import (
    ANY,
    ARRAY,
    PROCESS_GRAPH,
    CatalogLike,
    Check,
    ValueType,
    accepts,
    kind_of,
    schema_kinds,
)
from .walk import leaves


def validate_graph(
    graph: Graph,
    catalog: CatalogLike,
    registry: Registry,
    params: Mapping[str, ValueType] | None = None,
) -> ValueType:
    """Check every node in dependency order; return the type of the result.

    ``params`` are the parameter types of a child graph (none at the top level,
    where any ``from_parameter`` is an error).
    """
    types: dict[str, ValueType] = {}
    for node_id in graph.order():
        node = graph.nodes[node_id]
        types[node_id] = _check_node(node, registry.get(node.process_id), types, params or {},
                                     catalog, registry)
    return types[graph.result]


def _check_node(
    node: Node,
    proc: Process,
    types: Mapping[str, ValueType],
    params: Mapping[str, ValueType],
    catalog: CatalogLike,
    registry: Registry,
) -> ValueType:
    where = f"Node {node.id!r} ({proc.id})"
    declared = {p.name for p in proc.parameters}
    for name in node.arguments:
        if name not in declared:
            raise ArgumentUnsupported(
                f"{where}: argument {name!r} is not supported; "
                f"arguments: {', '.join(sorted(declared))}"
            )
    args: dict[str, Any] = {}
    children: dict[str, ChildGraph] = {}
    for p in proc.parameters:
        if p.name not in node.arguments:
            if p.required:
                raise ArgumentMissing(f"{where}: required argument {p.name!r} is missing")
            continue
        value = node.arguments[p.name]
        if isinstance(value, ChildGraph):
            children[p.name] = value
            typed: Any = ValueType(PROCESS_GRAPH)
        elif _is_filter_map(value):
            for key, condition in value.items():
                _check_condition(condition, catalog, registry, f"{where}: argument {p.name!r}."
                                 f"{key}")
            typed = ValueType("object")
        else:
            typed = _typed(value, types, params, where, p.name)
        kind = typed.kind if isinstance(typed, ValueType) else kind_of(typed)
        unset = typed is None and not p.required and p.default is None
        if not unset and not accepts(p.schema, kind):
            shown = typed.describe() if isinstance(typed, ValueType) else repr(typed)
            wanted = " or ".join(sorted(schema_kinds(p.schema)))
            raise ArgumentInvalid(f"{where}: argument {p.name!r}: expected {wanted}, got {shown}")
        args[p.name] = typed

    def child(name: str, child_params: Mapping[str, ValueType]) -> ValueType:
        if name not in children:
            raise ArgumentInvalid(f"{where}: argument {name!r}: expected a child process graph")
        return validate_graph(children[name].graph, catalog, registry, child_params)

    return proc.check(Check(node.id, proc.id, args, catalog, child,
                            {k: v.graph for k, v in children.items()}))


def _is_filter_map(value: Any) -> bool:
    """A metadata filter: an object whose values are all child graphs."""
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(v, ChildGraph) for v in value.values()
    )


def _check_condition(
    condition: ChildGraph, catalog: CatalogLike, registry: Registry, where: str
) -> None:
    """A metadata condition gets the property ``value`` and computes a boolean."""
    result = validate_graph(condition.graph, catalog, registry, {"value": ValueType(ANY)})
    if result.kind not in ("boolean", "null", ANY):
        raise ArgumentInvalid(f"{where}: the condition must give true or false, not "
                              f"{result.describe()}")


def _typed(
    value: Any,
    types: Mapping[str, ValueType],
    params: Mapping[str, ValueType],
    where: str,
    name: str,
) -> Any:
    """A literal as is; a reference as its type (nested references are not allowed)."""
    if isinstance(value, NodeRef):
        return types[value.node_id]
    if isinstance(value, ParamRef):
        if value.name not in params:
            raise ArgumentInvalid(
                f"{where}: argument {name!r}: parameter {value.name!r} is not defined here"
                + (f" (parameters: {', '.join(params)})" if params else "")
            )
        return params[value.name]
    if isinstance(value, tuple) and _has_reference(value) and all(
        isinstance(v, NodeRef | ParamRef) or not _has_reference(v) for v in value
    ):
        for v in value:
            _typed(v, types, params, where, name)
        return ValueType(ARRAY)
    if _has_reference(value):
        raise ArgumentInvalid(
            f"{where}: argument {name!r}: references nested in objects or inner arrays are not "
            "supported"
        )
    return value


def _has_reference(value: Any) -> bool:
    return any(isinstance(v, NodeRef | ParamRef | ChildGraph) for v in leaves(value))
