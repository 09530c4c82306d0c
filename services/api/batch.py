"""Batch jobs over HTTP: queue, cancel, list and download results.

The draft's ``POST /jobs/{id}/batch`` (and use case 3's ``PATCH /jobs/{id}/queue``)
queue a run; ``GET /jobs/{id}`` shows its status and progress; ``DELETE
/jobs/{id}/batch`` cancels it and deletes the results; ``GET /jobs/{id}/batch/download``
(or ``/jobs/{id}/download``) lists the result files, which download from
``/jobs/{id}/results/{name}`` (with Content-Length and Range support).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.batch.store import BatchStore
from ondemand.errors import ArgumentInvalid, JobNotFinished, OutputOptionInvalid
from ondemand.jobs import JobRecord

from ..body import read_json
from ..runs import cancel_run, queue_run, result_response, runner_of
from ..state import run_blocking, state_of
from ..users import current_user


def _job(request: Request) -> JobRecord:
    """The caller's job named in the path (404 otherwise)."""
    return state_of(request).jobs.get_job(request.path_params["job_id"], current_user(request))


async def _batch_output(request: Request, job: JobRecord) -> dict[str, Any] | None:
    """The body's ``output`` (optional; the job's own output options otherwise)."""
    state = state_of(request)
    if not await request.body():
        return None
    body = await read_json(request, state.settings.max_body_bytes)
    if body is None:
        return None
    if not isinstance(body, Mapping):
        raise ArgumentInvalid('The body must be empty or {"output": {...}}')
    unknown = set(body) - {"output"}
    if unknown:
        raise ArgumentInvalid(f"Unknown batch fields {sorted(unknown)}: only output is taken")
    output = body.get("output")
    if output is not None and not isinstance(output, Mapping):
        raise OutputOptionInvalid('"output" must be an object such as {"format": "GTiff"}')
    return None if output is None else dict(output)


async def _queue(request: Request) -> None:
    """Validate and queue a batch run of the caller's job."""
    job = _job(request)
    output = await _batch_output(request, job)
    await run_blocking(request, queue_run, state_of(request), job, output)


async def start_batch(request: Request) -> Response:
    """``POST /jobs/{id}/batch``: queue a batch run (a no-op while one is queued or running)."""
    await _queue(request)
    return Response(status_code=204)


async def queue_job(request: Request) -> Response:
    """``PATCH /jobs/{id}/queue`` (use case 3 of the draft): the same as POST .../batch."""
    await _queue(request)
    return Response(status_code=200)


async def cancel_batch(request: Request) -> Response:
    """``DELETE /jobs/{id}/batch``: stop the batch run and delete its results."""
    cancel_run(state_of(request), _job(request))
    return Response(status_code=204)


def _finished(request: Request) -> tuple[JobRecord, BatchStore]:
    """The caller's job with finished batch results, else JobNotFinished."""
    job = _job(request)
    if job.mode != "batch" or job.status != "finished":
        state = job.status if job.mode == "batch" else "not queued as a batch job"
        progress = f", {job.progress}%" if job.status == "running" else ""
        hint = (
            f" ({job.error})" if job.status == "error" and job.error
            else f"; queue it with POST /jobs/{job.job_id}/batch" if job.mode != "batch"
            or job.status in ("canceled", "error")
            else f"; poll GET /jobs/{job.job_id} until its status is finished"
        )
        raise JobNotFinished(
            f"Job {job.job_id!r} has no batch results: it is {state}{progress}{hint}"
        )
    return job, runner_of(state_of(request)).store


async def download_links(request: Request) -> Response:
    """``GET /jobs/{id}/batch/download`` and ``/jobs/{id}/download``: the result files."""
    job, store = _finished(request)
    base = str(request.base_url).rstrip("/")
    links = [
        {
            "href": f"{base}/jobs/{job.job_id}/results/{f.name}",
            "type": f.media_type,
            "title": f.title,
            "roles": list(f.roles),
            "file:size": f.size,
        }
        for f in store.results(job.job_id)
    ]
    return JSONResponse(links)


async def download_result(request: Request) -> Response:
    """``GET /jobs/{id}/results/{name}``: one result file (Range requests work)."""
    job, _ = _finished(request)
    return await result_response(request, state_of(request), job, request.path_params["name"])
