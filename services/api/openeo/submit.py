"""What creating and changing batch jobs and web services share in 1.2: reading the
body, checking its title and process, storing the job with openEO 1.x meanings, and
the ``201 Created`` answer."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ondemand.errors import ArgumentInvalid
from ondemand.jobs import JobRecord
from ondemand.processes.registry import OPENEO

from ...body import read_json
from ...state import AppState, run_blocking, state_of
from .auth import user_of
from .result import check_graph, process_graph_of


@dataclass(frozen=True)
class Submission:
    """A create request's body with its process graph and title checked."""

    user: str
    state: AppState
    body: Mapping[str, Any]
    graph: dict[str, Any]
    title: str | None


def title_of(body: Mapping[str, Any]) -> str | None:
    """The optional ``title`` (ArgumentInvalid unless a string)."""
    title = body.get("title")
    if title is not None and not isinstance(title, str):
        raise ArgumentInvalid('"title" must be a string')
    return title


async def read_submission(request: Request) -> Submission:
    """The caller, and the body of ``POST /jobs`` or ``POST /services``."""
    user = await user_of(request)
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    graph = process_graph_of(body)
    return Submission(user, state, body, graph, title_of(body))


async def store_job(request: Request, submission: Submission, *, keep_output: bool
                    ) -> JobRecord:
    """Compile the graph (a 400 if it does not) and store it as a job of 1.x meanings;
    ``keep_output`` keeps its save_result's format as the job's output."""
    output = await run_blocking(request, check_graph, submission.state, submission.graph,
                                submission.user)
    return submission.state.jobs.create_job(
        submission.user, submission.graph, output if keep_output else None, submission.title,
        OPENEO,
    )


async def read_patch(request: Request, editable: Collection[str], what: str
                     ) -> Mapping[str, Any]:
    """A PATCH body: a non-empty object of ``editable`` fields."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping) or not body:
        raise ArgumentInvalid(f"PATCH needs a JSON object with {what}")
    unknown = set(body) - set(editable)
    if unknown:
        raise ArgumentInvalid(f"Unknown fields {sorted(unknown)}: use {what}")
    return body


async def patched_process(request: Request, body: Mapping[str, Any], user: str,
                          keep_output: bool) -> dict[str, Any]:
    """The job fields a PATCH with ``process`` sets: the graph (compiled first), its
    1.x meanings and, with ``keep_output``, its save_result's format."""
    graph = process_graph_of(body)
    output = await run_blocking(request, check_graph, state_of(request), graph, user)
    fields: dict[str, Any] = {"process_graph": graph, "dialect": OPENEO}
    if keep_output:
        fields["output"] = output
    return fields


def created(location: str, identifier: str) -> Response:
    """``201 Created`` with ``Location`` and ``OpenEO-Identifier``."""
    return Response(status_code=201,
                    headers={"Location": location, "OpenEO-Identifier": identifier})
