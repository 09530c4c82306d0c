"""The jobs API of the draft: register graphs, run them on demand, download their results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ArgumentInvalid, OutputOptionInvalid, ProcessGraphMissing
from ondemand.formats import format_name, parse_output
from ondemand.jobs import JobRecord, check_mode_change
from ondemand.processes.registry import DRAFT
from ondemand.text import check_title

from ..body import read_json
from ..state import run_blocking, run_evaluation, state_of
from ..users import current_user
from .graphs import compile_request, execute_request, own_hosts

DOWNLOAD_FORMATS = {"tif": "GTiff", "png": "PNG", "jpg": "JPEG", "json": "JSON"}


async def _job_body(request: Request) -> tuple[Any, dict[str, Any] | None, str | None]:
    """``process_graph``, ``output`` and ``title`` of a job body, validated."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping) or body.get("process_graph") is None:
        raise ProcessGraphMissing(
            'No process graph specified: the body must be {"process_graph": ..., "output"?: ...}'
        )
    output = body.get("output")
    if output is not None:
        if not isinstance(output, Mapping):
            raise OutputOptionInvalid('"output" must be an object such as {"format": "GTiff"}')
        parse_output(output)
    title = check_title(body.get("title"))
    await run_blocking(request, compile_request, state, body["process_graph"], DRAFT,
                       current_user(request), own_hosts(request))
    return body["process_graph"], None if output is None else dict(output), title


async def create_job(request: Request) -> Response:
    """``POST /jobs``: validate and store a job."""
    graph, output, title = await _job_body(request)
    job = state_of(request).jobs.create_job(current_user(request), graph, output, title)
    return JSONResponse(job.meta(), headers={"Location": f"/jobs/{job.job_id}"})


async def create_on_demand_job(request: Request) -> Response:
    """``POST /jobs/on_demand``: create a job and start it on demand in one call."""
    graph, output, title = await _job_body(request)
    store = state_of(request).jobs
    job = store.create_job(current_user(request), graph, output, title)
    job = store.update_job(job.job_id, job.user_id, mode="on_demand", status="running")
    return JSONResponse(job.meta(), headers={"Location": f"/jobs/{job.job_id}"})


async def list_jobs(request: Request) -> Response:
    """``GET /jobs``: the caller's jobs."""
    jobs = state_of(request).jobs.list_jobs(current_user(request))
    return JSONResponse([j.meta() for j in jobs])


def _job(request: Request) -> JobRecord:
    """The caller's job named in the path (404 otherwise)."""
    return state_of(request).jobs.get_job(request.path_params["job_id"], current_user(request))


async def get_job(request: Request) -> Response:
    """``GET /jobs/{id}``: the full job with its graph."""
    job = _job(request)
    body = job.full()
    base = str(request.base_url).rstrip("/")
    body["links"] = [
        {"rel": "services", "href": f"{base}/services"},
        {"rel": "download", "href": f"{base}/jobs/{job.job_id}/on_demand/download"},
        {"rel": "viewer", "href": f"{base}/jobs/{job.job_id}/viewer", "type": "text/html"},
    ]
    return JSONResponse(body)


async def patch_job(request: Request) -> Response:
    """``PATCH /jobs/{id}``: replace the graph, output options or title (validated)."""
    job = _job(request)
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping) or not body:
        raise ArgumentInvalid("PATCH needs a JSON object with process_graph, output or title")
    unknown = set(body) - {"process_graph", "output", "title"}
    if unknown:
        raise ArgumentInvalid(
            f"Unknown job fields {sorted(unknown)}: use process_graph, output, title"
        )
    fields: dict[str, Any] = {}
    if "process_graph" in body:
        await run_blocking(request, compile_request, state, body["process_graph"], DRAFT,
                           job.user_id, own_hosts(request))
        fields.update(process_graph=body["process_graph"], dialect=DRAFT)
    if "output" in body:
        if body["output"] is not None:
            if not isinstance(body["output"], Mapping):
                raise OutputOptionInvalid('"output" must be an object such as {"format": "GTiff"}')
            parse_output(body["output"])
        fields["output"] = body["output"]
    if "title" in body:
        fields["title"] = check_title(body["title"])
    state.jobs.update_job(job.job_id, job.user_id, **fields)
    return Response(status_code=204)


async def delete_job(request: Request) -> Response:
    """``DELETE /jobs/{id}``: delete a job and its services."""
    job = _job(request)
    state_of(request).jobs.delete_job(job.job_id, job.user_id)
    return Response(status_code=204)


async def start_on_demand(request: Request) -> Response:
    """``POST /jobs/{id}/on_demand``: publishable from now on."""
    job = _job(request)
    check_mode_change(job, "on_demand")
    state_of(request).jobs.update_job(job.job_id, job.user_id, mode="on_demand", status="running")
    return Response(status_code=204)


async def stop_on_demand(request: Request) -> Response:
    """``DELETE /jobs/{id}/on_demand`` and the draft's ``PATCH /jobs/{id}/cancel``."""
    job = _job(request)
    state_of(request).jobs.update_job(job.job_id, job.user_id, mode="none", status="submitted")
    if request.method == "PATCH":
        return Response(status_code=200)
    return Response(status_code=204)


async def on_demand_download(request: Request) -> Response:
    """``GET /jobs/{id}/on_demand/download``: links to the default view's results."""
    job = _job(request)
    base = str(request.base_url).rstrip("/")
    links = [
        {
            "href": f"{base}/jobs/{job.job_id}/on_demand/result.{ext}",
            "type": media,
            "title": f"{fmt} of the job's bounding box at native resolution",
        }
        for ext, fmt, media in (
            ("tif", "GTiff", "image/tiff; application=geotiff"),
            ("png", "PNG", "image/png"),
        )
    ]
    return JSONResponse(links)


async def on_demand_result(request: Request) -> Response:
    """``GET /jobs/{id}/on_demand/result.{ext}``: evaluate the default view and return it."""
    job = _job(request)
    ext = request.path_params["ext"].lower()
    if ext not in DOWNLOAD_FORMATS:
        raise OutputOptionInvalid(
            f"Unknown result format {ext!r}; use one of {sorted(DOWNLOAD_FORMATS)}"
        )
    saved = dict(job.output or {})
    keep_saved = ext == "tif" and format_name(saved.get("format", "GTiff")) == "GTiff"
    output = saved if keep_saved else {"format": DOWNLOAD_FORMATS[ext]}
    state = state_of(request)
    encoded = await run_evaluation(
        request, execute_request, state, job.process_graph, output, None, job.dialect,
        job.user_id, None,
    )
    return Response(
        encoded.content,
        media_type=encoded.media_type,
        headers={**encoded.headers,
                 "Content-Disposition": f'attachment; filename="{job.job_id}.{ext}"'},
    )
