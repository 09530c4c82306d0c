"""openEO 1.x user-defined processes: calls of a user's stored processes, inlined.

A node ``{"process_id": "<id>", "namespace": "user", "arguments": {...}}`` (or without a
namespace when no predefined process has that id) calls a process the user stored with
``PUT /process_graphs/<id>``. Before parsing, the call is replaced by the stored graph's
nodes: the stored result node takes the call's node id (so ``from_node`` references to the
call read the stored result), the other stored nodes get ids ``<call>/<node>``, and every
``{"from_parameter": name}`` of a declared parameter becomes the call's argument (or the
parameter's default). Inside child graphs (reducers ...), a name the child graph itself
receives (``data``, ``context``, ``x`` ...) keeps its child meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ArgumentInvalid, ProcessGraphInvalid, ProcessUnsupported
from .processes.registry import Registry

__all__ = ["MAX_NESTING", "Lookup", "inline_user_processes", "user_process_graph"]

Lookup = Callable[[str], Any]
"""A user's stored process by id (its document), or None when they have none of that id."""
MAX_NESTING = 16
"""User-defined processes calling user-defined processes, at most this deep (no cycles)."""
CALLBACK_PARAMETERS = frozenset({"data", "context", "x", "y", "value", "index", "label"})
"""Parameter names child graphs receive from the process calling them (openEO processes)."""


def user_process_graph(stored: Any) -> tuple[Mapping[str, Any], list[Mapping[str, Any]] | None]:
    """The flat graph and declared parameters (None: undeclared) of a stored process.

    A stored process is openEO's ``{"process_graph": {...}, "parameters": [...]}`` or a bare
    flat graph stored through the draft's ``/process_graphs``.
    """
    if isinstance(stored, Mapping) and isinstance(stored.get("process_graph"), Mapping):
        params = stored.get("parameters")
        declared = [p for p in params if isinstance(p, Mapping)] if isinstance(params, list) \
            else None
        return stored["process_graph"], declared
    if isinstance(stored, Mapping) and stored and all(
        isinstance(n, Mapping) and "process_id" in n for n in stored.values()
    ) and "process_id" not in stored:
        return stored, None
    raise ProcessGraphInvalid(
        "The stored process graph is in the 2018 draft's nested form; openEO 1.x graphs can "
        "only call stored graphs in the flat form"
    )


def inline_user_processes(doc: Any, lookup: Lookup, registry: Registry,
                          max_nodes: int = 200) -> Any:
    """``doc`` (a flat graph, or ``{"process_graph": ...}``) with user process calls inlined.

    Documents without calls come back unchanged (the same object). The stored graphs
    put in place may add ``max_nodes`` nodes in all (calls repeated in calls multiply).
    """
    lookup = _budgeted(lookup, max_nodes)
    if isinstance(doc, Mapping) and isinstance(doc.get("process_graph"), Mapping):
        graph = _inline(doc["process_graph"], lookup, registry, 0)
        return doc if graph is doc["process_graph"] else {**doc, "process_graph": graph}
    if isinstance(doc, Mapping) and "process_id" not in doc:
        return _inline(doc, lookup, registry, 0)
    return doc


def _budgeted(lookup: Lookup, max_nodes: int) -> Lookup:
    """``lookup``, counting the nodes of what it finds: ProcessGraphInvalid past ``max_nodes``."""
    used = [0]

    def counted(name: str) -> Any:
        stored = lookup(name)
        if stored is not None:
            graph = stored.get("process_graph", stored) if isinstance(stored, Mapping) else ()
            used[0] += max(1, len(graph) if isinstance(graph, Mapping) else 1)
            if used[0] > max_nodes:
                raise ProcessGraphInvalid(
                    f"The user-defined processes called add more than {max_nodes} nodes"
                )
        return stored

    return counted


def _is_call(node: Any, registry: Registry) -> bool:
    """Whether a node calls a user-defined process."""
    if not isinstance(node, Mapping) or not isinstance(node.get("process_id"), str):
        return False
    namespace = node.get("namespace")
    return namespace == "user" or (namespace is None and node["process_id"] not in registry)


def _inline(graph: Mapping[str, Any], lookup: Lookup, registry: Registry, depth: int
            ) -> Mapping[str, Any]:
    """One flat graph with its calls (and its child graphs' calls) inlined."""
    changed = False
    out: dict[str, Any] = {}
    for node_id, node in graph.items():
        if _is_call(node, registry):
            stored = lookup(node["process_id"])
            if stored is None:
                if node.get("namespace") == "user":
                    raise ProcessUnsupported(
                        f"Node {node_id!r}: there is no user-defined process "
                        f"{node['process_id']!r} (PUT /process_graphs/{node['process_id']})"
                    )
                out[node_id] = node
                continue
            out.update(_expand(str(node_id), node, stored, lookup, registry, depth))
            changed = True
            continue
        new = _children(node, lookup, registry, depth)
        changed = changed or new is not node
        out[node_id] = new
    return out if changed else graph


def _children(node: Any, lookup: Lookup, registry: Registry, depth: int) -> Any:
    """A node with the calls in its child graphs inlined."""
    key = "args" if isinstance(node, Mapping) and "arguments" not in node else "arguments"
    if not isinstance(node, Mapping) or not isinstance(node.get(key), Mapping):
        return node
    args = {k: _child_value(v, lookup, registry, depth) for k, v in node[key].items()}
    if all(args[k] is v for k, v in node[key].items()):
        return node
    return {**node, key: args}


def _child_value(value: Any, lookup: Lookup, registry: Registry, depth: int) -> Any:
    if isinstance(value, Mapping) and set(value) == {"process_graph"} and isinstance(
        value["process_graph"], Mapping
    ):
        graph = _inline(value["process_graph"], lookup, registry, depth)
        return value if graph is value["process_graph"] else {"process_graph": graph}
    return value


def _expand(call_id: str, call: Mapping[str, Any], stored: Any, lookup: Lookup,
            registry: Registry, depth: int) -> dict[str, Any]:
    """The stored process's nodes in place of ``call``."""
    name = call["process_id"]
    if depth >= MAX_NESTING:
        raise ProcessGraphInvalid(
            f"Node {call_id!r}: user-defined processes call each other more than "
            f"{MAX_NESTING} deep (does {name!r} call itself?)"
        )
    graph, declared = user_process_graph(stored)
    graph = _inline(graph, lookup, registry, depth + 1)
    args = call.get("arguments", call.get("args", {}))
    if not isinstance(args, Mapping):
        raise ProcessGraphInvalid(f"Node {call_id!r}: 'arguments' must be an object")
    bindings = _bind(call_id, name, args, declared)
    results = [nid for nid, n in graph.items() if isinstance(n, Mapping) and n.get("result")]
    if len(results) != 1:
        raise ProcessGraphInvalid(f"User-defined process {name!r} needs exactly one result node")
    ids = {str(nid): (call_id if nid == results[0] else f"{call_id}/{nid}") for nid in graph}
    out: dict[str, Any] = {}
    for nid, node in graph.items():
        if not isinstance(node, Mapping):
            raise ProcessGraphInvalid(
                f"User-defined process {name!r}: node {nid!r} is not an object"
            )
        new = {k: v for k, v in node.items() if k not in ("arguments", "args", "result")}
        new["arguments"] = _substitute(node.get("arguments", node.get("args", {})), bindings,
                                       ids, frozenset())
        if nid == results[0] and call.get("result"):
            new["result"] = True
        out[ids[str(nid)]] = new
    return out


def _bind(call_id: str, name: str, args: Mapping[str, Any],
          declared: list[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The call's arguments with the declared defaults; unknown or missing ones refused."""
    bindings = dict(args)
    if declared is None:
        return bindings
    names = {str(p.get("name")) for p in declared}
    unknown = sorted(set(bindings) - names)
    if unknown:
        raise ArgumentInvalid(
            f"Node {call_id!r} ({name}): unknown arguments {unknown}; it takes {sorted(names)}"
        )
    for p in declared:
        pname = str(p.get("name"))
        if pname in bindings:
            continue
        if "default" in p:
            bindings[pname] = p["default"]
        elif not p.get("optional"):
            raise ArgumentInvalid(f"Node {call_id!r} ({name}): argument {pname!r} is missing")
    return bindings


def _substitute(value: Any, bindings: Mapping[str, Any], ids: Mapping[str, str] | None,
                shadowed: frozenset[str]) -> Any:
    """Bind parameters and rename node references; child graphs keep their own names."""
    if isinstance(value, Mapping):
        if set(value) == {"from_parameter"}:
            pname = value["from_parameter"]
            if pname in bindings and pname not in shadowed:
                return bindings[pname]
            return value
        if set(value) == {"from_node"} and ids is not None:
            target = value["from_node"]
            return {"from_node": ids.get(target, target)} if isinstance(target, str) else value
        if set(value) == {"process_graph"} and isinstance(value["process_graph"], Mapping):
            hidden = shadowed | CALLBACK_PARAMETERS
            return {"process_graph": {
                nid: ({k: (_substitute(v, bindings, None, hidden)
                           if k in ("arguments", "args") else v)
                       for k, v in node.items()} if isinstance(node, Mapping) else node)
                for nid, node in value["process_graph"].items()
            }}
        return {k: _substitute(v, bindings, ids, shadowed) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, bindings, ids, shadowed) for v in value]
    return value
