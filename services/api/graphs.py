"""Compiling a request's graph: the meanings of the API it came through, the caller's stored
graphs in place (the draft's ``process_graph`` references, openEO 1.x user processes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ondemand.evaluate import CompiledGraph
from ondemand.formats import Encoded
from ondemand.jobgraphs import compile_for, expand, registry_for
from ondemand.userfiles import FileStore

from ..state import AppState


def own_hosts(request: Request) -> frozenset[str]:
    """This server's ``host[:port]`` as the request names it (references to it resolve)."""
    hosts = {request.url.netloc, request.base_url.netloc}
    header = request.headers.get("host")
    if header:
        hosts.add(header)
    return frozenset(h for h in hosts if h)


def compile_request(state: AppState, doc: Any, dialect: str, user: str,
                    hosts: frozenset[str]) -> CompiledGraph:
    """Compile a request's graph for ``user`` (blocking)."""
    return compile_for(state.engine, doc, dialect, user, state.graphs, hosts)


def execute_request(state: AppState, doc: Any, output: Any, files: FileStore | None,
                    dialect: str, user: str, hosts: frozenset[str] | None) -> Encoded:
    """Evaluate a request's (or a stored job's) graph synchronously and encode it (blocking)."""
    expanded = expand(doc, dialect, user, state.graphs, hosts, state.settings.max_graph_nodes)
    return state.engine.execute(expanded, output, files, registry_for(dialect))
