"""The 2018 draft's ``process_graph`` process: apply a stored graph to an image collection.

``{"process_id": "process_graph", "args": {"imagery": {...}, "uri": ".../process_graphs/<id>"}}``
names a graph the same user stored on this server (``/process_graphs/<id>`` or
``/users/<user>/process_graphs/<id>``). Before parsing, the node is replaced by the stored
graph whose one data source (``{"product_id": ...}``, ``get_data`` or ``load_collection``)
is replaced by ``imagery``. Nothing is ever fetched: a URI of another host is refused,
another user's graph is not found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import ArgumentInvalid, ProcessGraphInvalid, ResourceNotFound

__all__ = ["DECLARATION", "MAX_NESTING", "resolve_graph_references"]

Lookup = Callable[[str], Any]
"""The calling user's stored graph by id (ResourceNotFound when they have none)."""
MAX_NESTING = 16
"""Stored graphs referencing stored graphs, at most this deep (no cycles)."""
SOURCES = frozenset({"get_data", "load_collection"})
"""Processes that read a collection: a stored graph's data source leaf."""
_RASTER = {"type": "object", "subtype": "raster-cube"}
DECLARATION: Mapping[str, Any] = {
    "process_id": "process_graph",
    "id": "process_graph",
    "summary": "Apply a stored process graph to an image collection",
    "description": (
        "Puts a process graph stored on this server (POST /process_graphs) in place of "
        "this node, with its one data source (product_id, get_data or load_collection) "
        "replaced by `imagery`. `uri` is the stored graph's URL on this server "
        "(`.../process_graphs/<id>` or `.../users/<user_id>/process_graphs/<id>`); a URI "
        "of another host is refused and nothing is fetched. Stored graphs may reference "
        "stored graphs, at most 16 deep."
    ),
    "categories": ["graphs"],
    "args": {
        "imagery": {"description": "Image collection to apply the process graph to",
                    "required": True},
        "uri": {"description": "The URI of a process graph stored on this server",
                "required": True},
    },
    "parameters": [
        {"name": "imagery", "description": "Image collection to apply the process graph to",
         "schema": _RASTER},
        {"name": "uri", "description": "The URI of a process graph stored on this server",
         "schema": {"type": "string", "format": "uri"}},
    ],
    "returns": {"description": "What the stored graph returns for `imagery`", "schema": {}},
}
"""``GET /processes/process_graph`` of the draft's API (resolved before parsing, so it is
not a process of the registry)."""
_PATH = re.compile(r"^(?:.*?)/(?:users/([^/]+)/)?process_graphs/([^/]+)/?$")


def resolve_graph_references(
    doc: Any, user_id: str, lookup: Lookup, own_hosts: Collection[str] | None,
    max_references: int = 200,
) -> Any:
    """``doc`` with every ``process_graph`` node of the nested form replaced (unchanged
    documents come back as the same object).

    ``own_hosts`` are this server's ``host[:port]`` names as the request saw them; None
    skips the host check (graphs checked when they were submitted). At most
    ``max_references`` stored graphs are put in place in all (references repeated in
    stored graphs multiply).
    """
    used = [0]

    def counted(graph_id: str) -> Any:
        used[0] += 1
        if used[0] > max_references:
            raise ProcessGraphInvalid(
                f"The process graph puts more than {max_references} stored graphs in place"
            )
        return lookup(graph_id)

    return _walk(doc, user_id, counted, own_hosts, 0)


def _walk(value: Any, user: str, lookup: Lookup, hosts: Collection[str] | None, depth: int
          ) -> Any:
    if isinstance(value, Mapping):
        if value.get("process_id") == "process_graph":
            return _resolve(value, user, lookup, hosts, depth)
        new = {k: _walk(v, user, lookup, hosts, depth) for k, v in value.items()}
        return value if all(new[k] is v for k, v in value.items()) else new
    if isinstance(value, list):
        items = [_walk(v, user, lookup, hosts, depth) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _resolve(node: Mapping[str, Any], user: str, lookup: Lookup,
             hosts: Collection[str] | None, depth: int) -> Any:
    """The stored graph applied to the node's imagery."""
    if depth >= MAX_NESTING:
        raise ProcessGraphInvalid(
            f"Stored process graphs reference each other more than {MAX_NESTING} deep"
        )
    args = node.get("args", node.get("arguments"))
    if not isinstance(args, Mapping) or set(args) != {"imagery", "uri"}:
        raise ArgumentInvalid('process_graph takes exactly two arguments: "imagery" and "uri"')
    graph_id = graph_id_of(args["uri"], user, hosts)
    stored = lookup(graph_id)
    if isinstance(stored, Mapping) and "process_graph" in stored and "process_id" not in stored:
        stored = stored["process_graph"]
    if not isinstance(stored, Mapping) or "process_id" not in stored:
        raise ArgumentInvalid(
            f"Stored process graph {graph_id!r} is not in the draft's nested form "
            '({"process_id": ..., "args": {...}}), so it cannot be applied to imagery'
        )
    imagery = _walk(args["imagery"], user, lookup, hosts, depth)
    stored = _walk(stored, user, lookup, hosts, depth + 1)
    found: list[int] = []
    applied = _replace_source(stored, imagery, found)
    if len(found) != 1:
        raise ArgumentInvalid(
            f"Stored process graph {graph_id!r} reads {len(found)} collections; process_graph "
            "applies graphs with exactly one data source (product_id, get_data or "
            "load_collection) to its imagery"
        )
    return applied


def graph_id_of(uri: Any, user: str, hosts: Collection[str] | None) -> str:
    """The graph id a URI names on this server (ArgumentInvalid for other hosts and shapes,
    ResourceNotFound for another user's graph)."""
    if not isinstance(uri, str) or not uri:
        raise ArgumentInvalid('process_graph: "uri" must be the URL of a stored process graph')
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise ArgumentInvalid(f"process_graph: {uri!r} is not a URL") from None
    if parts.scheme not in ("", "http", "https") or parts.query or parts.fragment:
        raise ArgumentInvalid(f"process_graph: {uri!r} is not an http(s) process graph URL")
    if parts.netloc and hosts is not None and parts.netloc.lower() not in {
        h.lower() for h in hosts
    }:
        raise ArgumentInvalid(
            f"process_graph: {uri!r} is on another host; only process graphs stored on this "
            "server (its /process_graphs/<id>) can be referenced (nothing is fetched)"
        )
    match = _PATH.match(parts.path)
    if match is None:
        raise ArgumentInvalid(
            f"process_graph: {uri!r} does not name a stored process graph "
            "(/process_graphs/<id> or /users/<user>/process_graphs/<id>)"
        )
    owner, graph_id = match.group(1), unquote(match.group(2))
    if owner is not None and unquote(owner) != user:
        raise ResourceNotFound(f"Process graph {graph_id!r} does not exist")
    return graph_id


def _replace_source(value: Any, imagery: Any, found: list[int]) -> Any:
    """``value`` with its data source nodes replaced by ``imagery`` (counted in ``found``)."""
    if isinstance(value, Mapping):
        if ("product_id" in value and "process_id" not in value) or value.get(
            "process_id"
        ) in SOURCES:
            found.append(1)
            return imagery
        return {k: _replace_source(v, imagery, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_source(v, imagery, found) for v in value]
    return value
