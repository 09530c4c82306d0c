"""Process graphs as one DAG: nodes, references, child graphs, canonical hashes.

A :class:`Graph` holds :class:`Node` objects whose process ids and argument names are
canonical, so the same computation hashes the same whatever its dialect or node ids.
Argument values are frozen JSON literals (lists become tuples, objects read-only
mappings) or :class:`NodeRef`, :class:`ParamRef` and :class:`ChildGraph`.

Graphs are made from either JSON dialect by :func:`ondemand.dialects.parse_graph`,
which takes the process registry; this module knows no process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ProcessGraphInvalid

__all__ = [
    "ChildGraph",
    "Graph",
    "Node",
    "NodeRef",
    "ParamRef",
    "node_hash",
    "thaw",
]


@dataclass(frozen=True)
class NodeRef:
    """The result of another node (``{"from_node": id}``)."""

    node_id: str


@dataclass(frozen=True)
class ParamRef:
    """A parameter of the enclosing (child) graph (``{"from_parameter": name}``)."""

    name: str


@dataclass(frozen=True, eq=False)
class ChildGraph:
    """A callback graph passed as an argument (``{"process_graph": {...}}``), e.g. a reducer."""

    graph: Graph


@dataclass(frozen=True, eq=False)
class Node:
    """One process invocation with canonical process id and arguments."""

    id: str
    process_id: str
    arguments: Mapping[str, Any]

    def refs(self) -> Iterator[NodeRef]:
        """Every :class:`NodeRef` in the arguments (not inside child graphs)."""
        stack: list[Any] = list(self.arguments.values())
        while stack:
            value = stack.pop()
            if isinstance(value, NodeRef):
                yield value
            elif isinstance(value, Mapping):
                stack.extend(value.values())
            elif isinstance(value, tuple):
                stack.extend(value)


@dataclass(frozen=True, eq=False)
class Graph:
    """A validated-shape DAG: nodes by id and the id of the result node.

    Graphs made by :func:`ondemand.dialects.parse_graph` are acyclic and every reference resolves.
    Derived data (topological order, node hashes) is computed once and kept.
    """

    nodes: Mapping[str, Node]
    result: str
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def order(self) -> tuple[str, ...]:
        """All node ids, every node after the nodes it reads (raises on cycles)."""
        if "order" not in self._memo:
            self._memo["order"] = _topological_order(self.nodes)
        order: tuple[str, ...] = self._memo["order"]
        return order

    def hash(self, node_id: str | None = None) -> str:
        """The canonical hash of a node's sub-graph (default: the result node)."""
        return node_hash(self, self.result if node_id is None else node_id)


def _topological_order(nodes: Mapping[str, Node]) -> tuple[str, ...]:
    """Kahn's algorithm; a cycle is a ProcessGraphInvalid naming a node on it."""
    inputs = {nid: {r.node_id for r in n.refs()} for nid, n in nodes.items()}
    readers: dict[str, list[str]] = {nid: [] for nid in nodes}
    for nid, deps in inputs.items():
        for dep in deps:
            readers.setdefault(dep, []).append(nid)
    waiting = {nid: len(deps) for nid, deps in inputs.items()}
    ready = sorted(nid for nid, n in waiting.items() if n == 0)
    order: list[str] = []
    while ready:
        nid = ready.pop()
        order.append(nid)
        for reader in readers.get(nid, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) < len(nodes):
        stuck = sorted(nid for nid, n in waiting.items() if n > 0)
        raise ProcessGraphInvalid(f"Process graph has a cycle through node {stuck[0]!r}")
    return tuple(order)


# --------------------------------------------------------------------------- hashing


def thaw(value: Any) -> Any:
    """Frozen graph literals (read-only mappings, tuples) back to plain JSON dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def node_hash(graph: Graph, node_id: str) -> str:
    """sha256 of a node's sub-graph: process, canonical arguments and input hashes.

    Independent of node ids and dialect; computed once per graph and kept.
    """
    hashes: dict[str, str] | None = graph._memo.get("hashes")
    if hashes is None:
        hashes = {}
        for nid in graph.order():
            node = graph.nodes[nid]
            payload = {"process": node.process_id, "arguments": _canon(node.arguments, hashes)}
            text = json.dumps(
                payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                allow_nan=False,
            )
            hashes[nid] = hashlib.sha256(text.encode()).hexdigest()
        graph._memo["hashes"] = hashes
    if node_id not in hashes:
        raise KeyError(node_id)
    return hashes[node_id]


def _canon(value: Any, hashes: Mapping[str, str]) -> Any:
    """JSON-able canonical form: refs by hash, integral floats as ints."""
    if isinstance(value, NodeRef):
        return {"$node": hashes[value.node_id]}
    if isinstance(value, ParamRef):
        return {"$parameter": value.name}
    if isinstance(value, ChildGraph):
        return {"$graph": value.graph.hash()}
    if isinstance(value, Mapping):
        return {k: _canon(v, hashes) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_canon(v, hashes) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
