"""Synchronous execution and graph validation."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from ondemand.errors import OutputOptionInvalid, ProcessGraphMissing
from ondemand.processes.registry import DRAFT

from ..body import read_json
from ..state import run_blocking, run_evaluation, state_of
from ..users import current_user
from .files import files_of
from .graphs import compile_request, execute_request, own_hosts


async def execute(request: Request) -> Response:
    """``POST /jobs/execute``: evaluate the graph on its native window, return the file."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping) or "process_graph" not in body:
        raise ProcessGraphMissing(
            'No process graph specified: the body must be {"process_graph": ..., "output": ...}'
        )
    output = body.get("output")
    if output is not None and not isinstance(output, Mapping):
        raise OutputOptionInvalid('"output" must be an object such as {"format": "GTiff"}')
    encoded = await run_evaluation(
        request, execute_request, state, body["process_graph"], output, files_of(request),
        DRAFT, current_user(request), own_hosts(request),
    )
    return Response(
        encoded.content,
        media_type=encoded.media_type,
        headers={**encoded.headers,
                 "Content-Disposition": f'attachment; filename="{encoded.filename}"'},
    )


async def validate_graph(request: Request) -> Response:
    """``POST /process_graphs/validate``: 204 when valid, else the first error."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    await run_blocking(
        request, compile_request, state, body, DRAFT, current_user(request), own_hosts(request)
    )
    return Response(status_code=204)
