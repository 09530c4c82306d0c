"""User-defined processes: ``/process_graphs`` in openEO 1.2's shape.

The store is the draft's (:class:`~ondemand.graphstore.ProcessGraphStore`): 1.2 keeps the
process object ``{"process_graph", "parameters", "summary", ...}`` under the id the user
chose; the draft keeps bare graphs under ids the server chose. A draft graph in the flat
form shows here as ``{"id", "process_graph"}``; one in the draft's nested form cannot be
shown as a 1.2 process and its ``GET`` is a 400 saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.dialects import parse_graph
from ondemand.errors import ArgumentInvalid, ProcessGraphInvalid, ProcessGraphMissing
from ondemand.jobgraphs import expand
from ondemand.processes import OPENEO_REGISTRY
from ondemand.processes.registry import OPENEO
from ondemand.udp import user_process_graph

from ...body import read_json
from ...state import AppState, run_blocking, state_of
from .auth import user_of
from .result import compile_graph

PROCESS_ID = re.compile(r"^\w+$")
"""openEO's process id pattern."""
METADATA = ("summary", "description", "parameters", "returns", "categories", "deprecated",
            "experimental", "exceptions", "examples", "links")
"""The optional fields of a stored process kept as given."""
LISTED = ("summary", "description", "parameters", "returns", "categories")
"""The fields ``GET /process_graphs`` lists (the spec asks to keep the list small)."""


def process_body(graph_id: str, stored: Any, *, full: bool) -> dict[str, Any]:
    """A stored graph as a 1.2 user-defined process (ProcessGraphInvalid when it cannot be)."""
    graph, _ = user_process_graph(stored)
    body: dict[str, Any] = {"id": graph_id}
    fields = METADATA if full else LISTED
    if isinstance(stored, Mapping) and "process_graph" in stored:
        body.update({k: stored[k] for k in fields if k in stored})
    if full:
        body["process_graph"] = graph
    return body


def _listed(graph_id: str, stored: Any) -> dict[str, Any]:
    """A list entry; a draft graph in the nested form is listed by id alone."""
    try:
        return process_body(graph_id, stored, full=False)
    except ProcessGraphInvalid:
        return {"id": graph_id, "description": "A 2018 draft process graph in the nested "
                "form: GET /process_graphs/{id} of the draft API shows it"}


def _check_process(state: AppState, graph_id: str, body: Any, user: str) -> dict[str, Any]:
    """The process object to store: shape checked, and compiled when it has no parameters
    (with parameters, its structure, process ids and references are checked). Blocking."""
    if not PROCESS_ID.match(graph_id):
        raise ArgumentInvalid(
            f"Process id {graph_id!r} is invalid: use letters, digits and underscores"
        )
    if graph_id in OPENEO_REGISTRY:
        raise ArgumentInvalid(
            f"{graph_id!r} is a predefined process; choose another id for your process"
        )
    if not isinstance(body, Mapping) or not isinstance(body.get("process_graph"), Mapping) \
            or not body["process_graph"]:
        raise ProcessGraphMissing(
            'No process graph specified: the body must be {"process_graph": {...}, '
            '"parameters"?: [...]}'
        )
    parameters = body.get("parameters")
    if parameters is not None and (not isinstance(parameters, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("name"), str) for p in parameters
    )):
        raise ArgumentInvalid('"parameters" must be a list of objects with a "name"')
    stored = {k: body[k] for k in METADATA if k in body and body[k] is not None}
    stored["id"] = graph_id
    stored["process_graph"] = dict(body["process_graph"])
    if parameters:
        settings = state.settings
        parse_graph(expand(stored["process_graph"], OPENEO, user, state.graphs, None,
                           settings.max_graph_nodes),
                    OPENEO_REGISTRY, max_nodes=settings.max_graph_nodes,
                    max_depth=settings.max_graph_depth)
    else:
        compile_graph(state, stored["process_graph"], user)
    return stored


async def list_processes(request: Request) -> Response:
    """``GET /process_graphs``: ``{"processes": [...], "links": []}``."""
    user = await user_of(request)
    items = await run_blocking(request, state_of(request).graphs.items, user)
    return JSONResponse({"processes": [_listed(i, g) for i, g in items], "links": []})


async def get_process(request: Request) -> Response:
    """``GET /process_graphs/{process_graph_id}``: the process with its graph."""
    user = await user_of(request)
    graph_id = request.path_params["process_graph_id"]
    stored = await run_blocking(request, state_of(request).graphs.get, graph_id, user)
    try:
        body = process_body(graph_id, stored, full=True)
    except ProcessGraphInvalid:
        raise ProcessGraphInvalid(
            f"Process graph {graph_id!r} was stored through the draft API in its nested form, "
            f"which has no openEO 1.2 shape; read it with the draft's GET "
            f"/process_graphs/{graph_id}"
        ) from None
    return JSONResponse(body)


async def put_process(request: Request) -> Response:
    """``PUT /process_graphs/{process_graph_id}``: store or replace (200)."""
    user = await user_of(request)
    state = state_of(request)
    graph_id = request.path_params["process_graph_id"]
    body = await read_json(request, state.settings.max_body_bytes)
    stored = await run_blocking(request, _check_process, state, graph_id, body, user)
    await run_blocking(request, state.graphs.put, graph_id, user, stored)
    return Response(status_code=200)


async def delete_process(request: Request) -> Response:
    """``DELETE /process_graphs/{process_graph_id}`` (204)."""
    user = await user_of(request)
    graph_id = request.path_params["process_graph_id"]
    await run_blocking(request, state_of(request).graphs.delete, graph_id, user)
    return Response(status_code=204)
