"""A graph as the engine compiles it: read with the meanings of the API it was written for,
with its references to the user's stored graphs resolved.

Every compile of a stored job (batch runs, tiles, WMTS, WCS, downloads) and of a request
goes through :func:`compile_for`, so a graph means the same whichever path evaluates it:
a job created through openEO 1.2 keeps 1.x meanings (exclusive end dates) in its batch
run and its map tiles, and a draft job keeps the draft's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ResourceNotFound
from .graphref import resolve_graph_references
from .processes import OPENEO_REGISTRY, REGISTRY, Registry
from .processes.registry import DRAFT, OPENEO
from .udp import inline_user_processes

if TYPE_CHECKING:
    from .engine import Engine
    from .evaluate import CompiledGraph
    from .jobs import JobRecord

__all__ = [
    "RecordingGraphs", "UserGraphs", "compile_for", "compile_job", "expand", "registry_for",
    "stored_graphs_changed",
]


class UserGraphs(Protocol):
    """Users' stored graphs (:class:`~ondemand.graphstore.ProcessGraphStore`)."""

    def get(self, graph_id: str, user_id: str) -> Any:
        """The stored graph; ResourceNotFound when the user has none of that id."""


_MISSING = object()
"""What a lookup of a stored graph the user does not have recorded."""


class RecordingGraphs:
    """A user's stored graphs that remembers what each lookup answered, so a layer built
    from them can tell later whether any of them changed (:func:`stored_graphs_changed`)."""

    def __init__(self, graphs: UserGraphs) -> None:
        self.graphs = graphs
        self.seen: dict[tuple[str, str], Any] = {}

    def get(self, graph_id: str, user_id: str) -> Any:
        """The stored graph (ResourceNotFound when the user has none), remembered."""
        try:
            graph = self.graphs.get(graph_id, user_id)
        except ResourceNotFound:
            self.seen[(graph_id, user_id)] = _MISSING
            raise
        self.seen[(graph_id, user_id)] = graph
        return graph


def stored_graphs_changed(graphs: UserGraphs, seen: Mapping[tuple[str, str], Any]) -> bool:
    """Whether any stored graph a compile looked up is now different (or created or gone)."""
    for (graph_id, user_id), before in seen.items():
        try:
            now = graphs.get(graph_id, user_id)
        except ResourceNotFound:
            now = _MISSING
        if now is _MISSING or before is _MISSING:
            if now is not before:
                return True
        elif now != before:
            return True
    return False


def registry_for(dialect: str) -> Registry:
    """The processes read with ``dialect``'s meanings: the draft's or openEO 1.x's."""
    if dialect == OPENEO:
        return OPENEO_REGISTRY
    if dialect == DRAFT:
        return REGISTRY
    raise ValueError(f"unknown process graph dialect {dialect!r}")


def expand(doc: Any, dialect: str, user_id: str | None, graphs: UserGraphs | None,
           own_hosts: Collection[str] | None = None, max_nodes: int = 200) -> Any:
    """``doc`` with the stored graphs it references put in place: user-defined process
    calls (openEO 1.x) or ``process_graph`` nodes (the draft), adding at most about
    ``max_nodes`` nodes. Without a store or a user, ``doc`` as it is (references then
    fail to parse, as unknown processes)."""
    if graphs is None or user_id is None:
        return doc
    if dialect == OPENEO:
        def user_process(process_id: str) -> Any:
            try:
                return graphs.get(process_id, user_id)
            except ResourceNotFound:
                return None

        return inline_user_processes(doc, user_process, OPENEO_REGISTRY, max_nodes)
    return resolve_graph_references(
        doc, user_id, lambda graph_id: graphs.get(graph_id, user_id), own_hosts, max_nodes
    )


def compile_for(engine: Engine, doc: Any, dialect: str, user_id: str | None = None,
                graphs: UserGraphs | None = None,
                own_hosts: Collection[str] | None = None) -> CompiledGraph:
    """Compile ``doc`` written for ``dialect`` on behalf of ``user_id`` (blocking)."""
    expanded = expand(doc, dialect, user_id, graphs, own_hosts, engine.settings.max_graph_nodes)
    return engine.compile(expanded, registry_for(dialect))


def compile_job(engine: Engine, job: JobRecord, graphs: UserGraphs | None) -> CompiledGraph:
    """Compile a stored job's graph with its own dialect and its owner's stored graphs."""
    return compile_for(engine, job.process_graph, job.dialect, job.user_id, graphs)
