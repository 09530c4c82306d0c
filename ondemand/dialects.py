"""Parse the two process-graph dialects into one :class:`~ondemand.graph.Graph`.

The draft's nested form (``{"process_id": ..., "args": {"imagery": {...}}}``) and the
openEO 1.x flat form (``{"node": {"process_id", "arguments", "result"}}`` with
``from_node`` / ``from_parameter`` and child graphs) both become canonical nodes:
process ids and argument names (aliases, the draft's names) come from the registry
the caller passes in. Nested nodes get ids from their JSON path
(``process_graph.args.imagery``), so errors point at the place in the document.
Structure is checked here (shape, references, cycles, size and depth limits);
arguments are checked against the declarations by
:func:`ondemand.processes.validate.validate_graph`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import ArgumentInvalid, ProcessGraphInvalid, ProcessGraphMissing, ProcessUnsupported
from .graph import ChildGraph, Graph, Node, NodeRef, ParamRef

if TYPE_CHECKING:
    from .processes.registry import Registry

__all__ = ["parse_graph"]

_MAX_INT = 2**53
"""Largest integer argument (JSON interoperable, exact as a float); bigger is ArgumentInvalid."""
_NODE_KEYS = frozenset({"process_id", "arguments", "args", "result", "description", "namespace"})


@dataclass
class _Budget:
    """Node count shared by a graph and its child graphs."""

    max_nodes: int
    max_depth: int
    used: int = 0

    def take(self, node_id: str) -> None:
        self.used += 1
        if self.used > self.max_nodes:
            raise ProcessGraphInvalid(
                f"Process graph has more than {self.max_nodes} nodes (at node {node_id!r})"
            )


def parse_graph(
    doc: Any, registry: Registry, *, max_nodes: int = 200, max_depth: int = 64
) -> Graph:
    """Parse a process graph in either dialect into a canonical :class:`Graph`.

    ``doc`` is the nested draft form, the flat openEO 1.x form, or either wrapped as
    ``{"process_graph": ...}`` (other keys of the wrapper, such as ``output``, are
    ignored). Raises ProcessGraphMissing, ProcessGraphInvalid, ProcessUnsupported
    and ArgumentInvalid (NaN/Infinity, a draft argument given twice). Process ids and
    argument names are made canonical by ``registry``.
    """
    budget = _Budget(max_nodes, max_depth)
    if isinstance(doc, Mapping) and "process_graph" in doc:
        doc = doc["process_graph"]
    if doc is None or (isinstance(doc, Mapping | list | str) and not doc):
        raise ProcessGraphMissing("No process graph specified")
    return _parse_any(doc, registry, budget, nesting=0, path="process_graph")


def _parse_any(doc: Any, reg: Registry, budget: _Budget, nesting: int, path: str) -> Graph:
    """Dispatch on the dialect of ``doc``."""
    if nesting > budget.max_depth:
        raise ProcessGraphInvalid(f"Child graphs nested deeper than {budget.max_depth} at {path}")
    if not isinstance(doc, Mapping):
        raise ProcessGraphInvalid(f"{path}: a process graph must be a JSON object")
    if "process_id" in doc or "product_id" in doc:
        return _NestedParser(reg, budget, nesting).parse(doc, path)
    return _parse_flat(doc, reg, budget, nesting, path)


def _parse_flat(
    doc: Mapping[str, Any], reg: Registry, budget: _Budget, nesting: int, path: str
) -> Graph:
    """Parse ``{"node": {"process_id", "arguments", "result"}, ...}``."""
    nodes: dict[str, Node] = {}
    results: list[str] = []
    for node_id, raw in doc.items():
        if not isinstance(node_id, str) or not node_id:
            raise ProcessGraphInvalid(f"{path}: node ids must be non-empty strings")
        budget.take(node_id)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("process_id"), str):
            raise ProcessGraphInvalid(
                f"Node {node_id!r} must be an object with a string 'process_id'"
            )
        extra = sorted(k for k in raw if k not in _NODE_KEYS)
        if extra:
            raise ProcessGraphInvalid(f"Node {node_id!r} has unknown keys {extra}")
        if "arguments" in raw and "args" in raw:
            raise ProcessGraphInvalid(f"Node {node_id!r} has both 'arguments' and 'args'")
        args = raw.get("arguments", raw.get("args", {}))
        if not isinstance(args, Mapping):
            raise ProcessGraphInvalid(f"Node {node_id!r}: 'arguments' must be an object")
        result = raw.get("result", False)
        if not isinstance(result, bool):
            raise ProcessGraphInvalid(f"Node {node_id!r}: 'result' must be true or false")
        if result:
            results.append(node_id)
        converted = {
            str(name): _convert(value, node_id, str(name), 0, reg, budget, nesting)
            for name, value in args.items()
        }
        nodes[node_id] = _make_node(node_id, raw["process_id"], converted, reg)
    if not results:
        raise ProcessGraphInvalid(f"{path}: no node is marked as the result")
    if len(results) > 1:
        raise ProcessGraphInvalid(f"{path}: several result nodes: {', '.join(results)}")
    return _finish(nodes, results[0], budget.max_depth)


class _NestedParser:
    """The draft's nested form, walked with an explicit stack (no recursion per level)."""

    def __init__(self, reg: Registry, budget: _Budget, nesting: int) -> None:
        self.reg = reg
        self.budget = budget
        self.nesting = nesting
        self.pending: list[tuple[str, Mapping[str, Any], int]] = []

    def parse(self, doc: Mapping[str, Any], path: str) -> Graph:
        nodes: dict[str, Node] = {}
        self.pending.append((path, doc, 0))
        while self.pending:
            node_id, raw, level = self.pending.pop()
            if level > self.budget.max_depth:
                raise ProcessGraphInvalid(
                    f"Process graph is nested deeper than {self.budget.max_depth} "
                    f"(at node {node_id!r})"
                )
            self.budget.take(node_id)
            nodes[node_id] = self._node(node_id, raw, level)
        return _finish(nodes, path, self.budget.max_depth)

    def _node(self, node_id: str, raw: Mapping[str, Any], level: int) -> Node:
        if "process_id" not in raw:
            extra = sorted(k for k in raw if k != "product_id")
            if extra or not isinstance(raw["product_id"], str):
                raise ProcessGraphInvalid(
                    f"Node {node_id!r}: an image collection is {{\"product_id\": <string>}}"
                )
            return _make_node(node_id, "load_collection", {"id": raw["product_id"]}, self.reg)
        if not isinstance(raw["process_id"], str):
            raise ProcessGraphInvalid(f"Node {node_id!r}: 'process_id' must be a string")
        extra = sorted(k for k in raw if k not in _NODE_KEYS)
        if extra:
            raise ProcessGraphInvalid(f"Node {node_id!r} has unknown keys {extra}")
        args = raw.get("args", raw.get("arguments", {}))
        if not isinstance(args, Mapping):
            raise ProcessGraphInvalid(f"Node {node_id!r}: 'args' must be an object")
        converted: dict[str, Any] = {}
        for name, value in args.items():
            converted[str(name)] = self._value(value, f"{node_id}.args.{name}", node_id,
                                               str(name), level, 0)
        return _make_node(node_id, raw["process_id"], converted, self.reg)

    def _value(self, value: Any, path: str, node_id: str, arg: str, level: int, depth: int) -> Any:
        """Convert one argument value; nested processes are queued and become NodeRefs."""
        if isinstance(value, Mapping) and ("process_id" in value or "product_id" in value):
            self.pending.append((path, value, level + 1))
            return NodeRef(path)
        if isinstance(value, Mapping) and not _is_reference(value):
            _check_depth(depth, node_id, arg, self.budget)
            return MappingProxyType({
                str(k): self._value(v, f"{path}.{k}", node_id, arg, level, depth + 1)
                for k, v in value.items()
            })
        if isinstance(value, list | tuple):
            _check_depth(depth, node_id, arg, self.budget)
            return tuple(
                self._value(v, f"{path}[{i}]", node_id, arg, level, depth + 1)
                for i, v in enumerate(value)
            )
        return _convert(value, node_id, arg, depth, self.reg, self.budget, self.nesting)


def _is_reference(value: Mapping[str, Any]) -> bool:
    return any(k in value for k in ("from_node", "from_parameter", "process_graph"))


def _check_depth(depth: int, node_id: str, arg: str, budget: _Budget) -> None:
    if depth >= budget.max_depth:
        raise ProcessGraphInvalid(
            f"Node {node_id!r}: argument {arg!r} is nested deeper than {budget.max_depth}"
        )


def _convert(
    value: Any, node_id: str, arg: str, depth: int, reg: Registry, budget: _Budget, nesting: int
) -> Any:
    """Freeze a flat-form argument value, turning reference objects into refs."""
    if isinstance(value, Mapping):
        if _is_reference(value):
            return _reference(value, node_id, arg, reg, budget, nesting)
        _check_depth(depth, node_id, arg, budget)
        return MappingProxyType({
            str(k): _convert(v, node_id, arg, depth + 1, reg, budget, nesting)
            for k, v in value.items()
        })
    if isinstance(value, list | tuple):
        _check_depth(depth, node_id, arg, budget)
        return tuple(_convert(v, node_id, arg, depth + 1, reg, budget, nesting) for v in value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ArgumentInvalid(f"Node {node_id!r}: argument {arg!r}: {value} is not a number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_INT:
        raise ArgumentInvalid(
            f"Node {node_id!r}: argument {arg!r}: an integer of {len(str(abs(value)))} digits "
            "is too large"
        )
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ProcessGraphInvalid(
        f"Node {node_id!r}: argument {arg!r} has a non-JSON value of type {type(value).__name__}"
    )


def _reference(
    value: Mapping[str, Any], node_id: str, arg: str, reg: Registry, budget: _Budget, nesting: int
) -> Any:
    keys = sorted(value)
    if len(keys) != 1:
        raise ProcessGraphInvalid(
            f"Node {node_id!r}: argument {arg!r}: a reference object must have exactly one key, "
            f"got {keys}"
        )
    key, target = keys[0], value[keys[0]]
    if key == "process_graph":
        return ChildGraph(_parse_any(target, reg, budget, nesting + 1, f"{node_id}.{arg}"))
    if not isinstance(target, str) or not target:
        raise ProcessGraphInvalid(f"Node {node_id!r}: argument {arg!r}: {key} must be a string")
    return NodeRef(target) if key == "from_node" else ParamRef(target)


def _make_node(node_id: str, process_id: str, args: dict[str, Any], reg: Registry) -> Node:
    """Canonicalize process id and argument names."""
    pid = reg.canonical_id(process_id)
    if pid is None:
        raise ProcessUnsupported(f"Node {node_id!r}: process {process_id!r} is not supported")
    canonical = reg.get(pid).canonical_arguments(node_id, args, reg.dialect)
    return Node(node_id, pid, MappingProxyType(canonical))


def _finish(nodes: dict[str, Node], result: str, max_depth: int) -> Graph:
    """Check references, cycles and depth; build the graph."""
    for node in nodes.values():
        for ref in node.refs():
            if ref.node_id == node.id:
                raise ProcessGraphInvalid(f"Node {node.id!r} refers to itself")
            if ref.node_id not in nodes:
                raise ProcessGraphInvalid(
                    f"Node {node.id!r} refers to unknown node {ref.node_id!r}"
                )
    graph = Graph(MappingProxyType(nodes), result)
    order = graph.order()
    depth: dict[str, int] = {}
    for node_id in order:
        depth[node_id] = 1 + max((depth[r.node_id] for r in nodes[node_id].refs()), default=0)
        if depth[node_id] > max_depth + 1:
            raise ProcessGraphInvalid(
                f"Process graph is deeper than {max_depth} (at node {node_id!r})"
            )
    return graph
