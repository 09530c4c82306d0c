"""``POST /result`` (synchronous processing) and ``POST /validation``.

Both read the 1.x request body ``{"process": {"process_graph": ...}}``; the format
and options of the graph's ``save_result`` choose the encoding.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import OnDemandError, ProcessGraphMissing
from ondemand.evaluate import CompiledGraph
from ondemand.formats import parse_output
from ondemand.jobgraphs import compile_for
from ondemand.processes import result_output
from ondemand.processes.registry import OPENEO

from ...body import read_json
from ...state import AppState, run_blocking, run_evaluation, state_of
from ..files import files_of
from ..graphs import execute_request
from .auth import user_of
from .errors import openeo_code


def process_graph_of(body: Any) -> dict[str, Any]:
    """The flat process graph of a 1.x body ``{"process": {"process_graph": ...}}``.

    A bare ``{"process_graph": ...}`` (the shape of ``POST /validation``) is accepted too.
    """
    process = body.get("process", body) if isinstance(body, Mapping) else None
    graph = process.get("process_graph") if isinstance(process, Mapping) else None
    if not isinstance(graph, Mapping) or not graph:
        raise ProcessGraphMissing(
            'No process graph specified: the body must be {"process": {"process_graph": {...}}}'
        )
    return dict(graph)


def compile_graph(state: AppState, graph: dict[str, Any], user: str | None) -> CompiledGraph:
    """Compile a 1.x graph of ``user`` with openEO 1.x's process meanings and their
    user-defined processes (none for an anonymous caller) (blocking)."""
    return compile_for(state.engine, graph, OPENEO, user, state.graphs)


def check_graph(state: AppState, graph: dict[str, Any], user: str | None
                ) -> dict[str, Any] | None:
    """Compile the graph, check its save_result's format and options and return them as
    the engine's output object (None without save_result) (blocking)."""
    compiled = compile_graph(state, graph, user)
    output = result_output(compiled.graph, None)
    parse_output(output)
    return None if output is None else dict(output)


async def process_result(request: Request) -> Response:
    """``POST /result``: evaluate and return the encoded result with an ``OpenEO-Identifier``."""
    user = await user_of(request)
    state = state_of(request)
    graph = process_graph_of(await read_json(request, state.settings.max_body_bytes))
    encoded = await run_evaluation(
        request, execute_request, state, graph, None, files_of(request), OPENEO, user, None
    )
    return Response(
        encoded.content,
        media_type=encoded.media_type,
        headers={
            "OpenEO-Identifier": f"r-{secrets.token_hex(8)}",
            "Content-Disposition": f'attachment; filename="{encoded.filename}"',
        },
    )


async def validate(request: Request) -> Response:
    """``POST /validation``: ``{"errors": [...]}``, empty when the graph is valid."""
    state = state_of(request)
    user = await user_of(request) if request.headers.get("authorization") else None
    graph = process_graph_of(await read_json(request, state.settings.max_body_bytes))
    try:
        await run_blocking(request, check_graph, state, graph, user)
    except OnDemandError as exc:
        code, _ = openeo_code(exc)
        return JSONResponse({"errors": [{"code": code, "message": exc.message}]})
    return JSONResponse({"errors": []})
