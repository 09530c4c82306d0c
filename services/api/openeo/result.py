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
from ondemand.formats import Encoded, parse_output
from ondemand.processes import OPENEO_REGISTRY, result_output
from ondemand.userfiles import UserFiles

from ...body import read_json
from ...state import AppState, run_blocking, run_evaluation, state_of
from ..files import files_of
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


def compile_graph(state: AppState, graph: dict[str, Any]) -> CompiledGraph:
    """Compile a 1.x graph with openEO 1.x's process meanings (blocking)."""
    return state.engine.compile(graph, OPENEO_REGISTRY)


def check_graph(state: AppState, graph: dict[str, Any]) -> dict[str, Any] | None:
    """Compile the graph, check its save_result's format and options and return them as
    the engine's output object (None without save_result) (blocking)."""
    compiled = compile_graph(state, graph)
    output = result_output(compiled.graph, None)
    parse_output(output)
    return None if output is None else dict(output)


def execute_graph(state: AppState, graph: dict[str, Any], files: UserFiles) -> Encoded:
    """Evaluate a 1.x graph synchronously, encoded as its save_result says (blocking)."""
    return state.engine.execute(graph, None, files, OPENEO_REGISTRY)


async def process_result(request: Request) -> Response:
    """``POST /result``: evaluate and return the encoded result with an ``OpenEO-Identifier``."""
    await user_of(request)
    state = state_of(request)
    graph = process_graph_of(await read_json(request, state.settings.max_body_bytes))
    encoded = await run_evaluation(request, execute_graph, state, graph, files_of(request))
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
    graph = process_graph_of(await read_json(request, state.settings.max_body_bytes))
    try:
        await run_blocking(request, check_graph, state, graph)
    except OnDemandError as exc:
        code, _ = openeo_code(exc)
        return JSONResponse({"errors": [{"code": code, "message": exc.message}]})
    return JSONResponse({"errors": []})
