"""``/process_graphs``: each user's stored process graphs (list, store, get, replace, delete)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ProcessGraphMissing
from ondemand.processes.registry import DRAFT

from ..body import read_json
from ..state import run_blocking, state_of
from ..users import current_user
from .graphs import compile_request, own_hosts


async def _graph_body(request: Request) -> Any:
    """The request's process graph, compiled once so only valid graphs are stored."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if body is None:
        raise ProcessGraphMissing("No process graph specified: the body must be a process graph")
    await run_blocking(
        request, compile_request, state, body, DRAFT, current_user(request), own_hosts(request)
    )
    return body


async def list_graphs(request: Request) -> Response:
    """``GET /process_graphs``: the ids of the caller's stored graphs."""
    return JSONResponse(state_of(request).graphs.list(current_user(request)))


async def store_graph(request: Request) -> Response:
    """``POST /process_graphs``: store a valid graph, answer its id."""
    user = current_user(request)
    graph = await _graph_body(request)
    graph_id = state_of(request).graphs.create(user, graph)
    return JSONResponse(
        {"process_graph_id": graph_id}, headers={"Location": f"/process_graphs/{graph_id}"}
    )


async def get_graph(request: Request) -> Response:
    """``GET /process_graphs/{process_graph_id}``: the stored graph."""
    graph_id = request.path_params["process_graph_id"]
    return JSONResponse(state_of(request).graphs.get(graph_id, current_user(request)))


async def replace_graph(request: Request) -> Response:
    """``PUT /process_graphs/{process_graph_id}``: replace the graph, keep the id."""
    user = current_user(request)
    graphs = state_of(request).graphs
    graph_id = request.path_params["process_graph_id"]
    graphs.get(graph_id, user)
    graphs.replace(graph_id, user, await _graph_body(request))
    return Response(status_code=204)


async def delete_graph(request: Request) -> Response:
    """``DELETE /process_graphs/{process_graph_id}``."""
    graph_id = request.path_params["process_graph_id"]
    state_of(request).graphs.delete(graph_id, current_user(request))
    return Response(status_code=204)
