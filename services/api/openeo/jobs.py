"""Batch jobs in openEO 1.2's shape, on the draft's job store and batch runner.

``POST /jobs`` registers a job (the draft sees it in its own shape);
``POST /jobs/{id}/results`` queues a run on the Dask batch runner; the results are a
STAC Item whose assets download from ``/jobs/{id}/results/assets/{name}`` (HEAD and
Range work).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.batch.results import ITEM_NAME
from ondemand.errors import ArgumentInvalid, JobModeConflict, JobNotFinished
from ondemand.joblogs import LEVELS
from ondemand.jobs import JobRecord

from ...runs import cancel_run, queue_run, result_bytes, result_response, runner_of
from ...state import AppState, run_blocking, state_of
from .auth import api_url, user_of
from .submit import created, patched_process, read_patch, read_submission, store_job, title_of

BATCH_STATUSES = frozenset({"queued", "running", "finished", "canceled", "error"})
EDITABLE = frozenset({"title", "description", "process", "plan", "budget", "log_level"})


def openeo_status(job: JobRecord) -> str:
    """The 1.x status: ``created`` until a batch run is queued, then the run's status."""
    if job.mode == "batch" and job.status in BATCH_STATUSES:
        return job.status
    return "created"


def job_metadata(job: JobRecord) -> dict[str, Any]:
    """A job of ``GET /jobs`` in 1.x's shape."""
    status = openeo_status(job)
    body: dict[str, Any] = {
        "id": job.job_id,
        "title": job.title,
        "status": status,
        "created": job.submitted,
        "updated": job.updated,
    }
    if status == "running":
        body["progress"] = max(0, min(100, job.progress))
    elif status == "finished":
        body["progress"] = 100
    return body


async def _job(request: Request) -> JobRecord:
    """The caller's job of the path (JobNotFound for other users' and unknown ids)."""
    user = await user_of(request)
    return state_of(request).jobs.get_job(request.path_params["job_id"], user)


async def create_job(request: Request) -> Response:
    """``POST /jobs``: 201 with ``Location`` and ``OpenEO-Identifier``."""
    job = await store_job(request, await read_submission(request), keep_output=True)
    return created(f"{api_url(request)}/jobs/{job.job_id}", job.job_id)


async def list_jobs(request: Request) -> Response:
    """``GET /jobs``: ``{"jobs": [...], "links": []}``."""
    user = await user_of(request)
    jobs = state_of(request).jobs.list_jobs(user)
    return JSONResponse({"jobs": [job_metadata(j) for j in jobs], "links": []})


async def get_job(request: Request) -> Response:
    """``GET /jobs/{job_id}``: the job with its process."""
    job = await _job(request)
    body = job_metadata(job)
    body["process"] = {"process_graph": job.process_graph}
    if job.error and job.status == "error":
        body["description"] = f"The last batch run failed: {job.error}"
    return JSONResponse(body)


async def patch_job(request: Request) -> Response:
    """``PATCH /jobs/{job_id}``: change the title or the process (not while it runs)."""
    job = await _job(request)
    body = await read_patch(request, EDITABLE, "title or process")
    if openeo_status(job) in ("queued", "running"):
        raise JobModeConflict(
            f"Job {job.job_id!r} is {openeo_status(job)}; cancel it "
            "(DELETE /jobs/{job_id}/results) before changing it"
        )
    fields: dict[str, Any] = {}
    if "process" in body:
        fields.update(await patched_process(request, body, job.user_id, keep_output=True))
    if "title" in body:
        fields["title"] = title_of(body)
    if fields:
        state_of(request).jobs.update_job(job.job_id, job.user_id, **fields)
    return Response(status_code=204)


async def delete_job(request: Request) -> Response:
    """``DELETE /jobs/{job_id}``: stop a run, delete the job, its results and services."""
    job = await _job(request)
    state = state_of(request)
    if job.mode == "batch":
        await run_blocking(request, cancel_run, state, job)
    state.jobs.delete_job(job.job_id, job.user_id)
    return Response(status_code=204)


async def start_job(request: Request) -> Response:
    """``POST /jobs/{job_id}/results``: queue a batch run (202; a no-op while one runs)."""
    job = await _job(request)
    await run_blocking(request, queue_run, state_of(request), job, None)
    return Response(status_code=202)


async def cancel_job(request: Request) -> Response:
    """``DELETE /jobs/{job_id}/results``: cancel the run and delete its results."""
    job = await _job(request)
    if job.mode == "batch":
        await run_blocking(request, cancel_run, state_of(request), job)
    return Response(status_code=204)


def _finished(job: JobRecord) -> None:
    """Raise JobNotFinished unless the job's batch run has finished."""
    status = openeo_status(job)
    if status != "finished":
        hint = (
            f": {job.error}" if status == "error" and job.error
            else "; start it with POST /jobs/{job_id}/results" if status in ("created", "canceled")
            else "; poll GET /jobs/{job_id} until its status is finished"
        )
        raise JobNotFinished(f"Job {job.job_id!r} is {status}, it has no results yet{hint}")


async def get_results(request: Request) -> Response:
    """``GET /jobs/{job_id}/results``: a STAC Item whose assets are authorized downloads."""
    job = await _job(request)
    _finished(job)
    state = state_of(request)
    base = api_url(request)
    files = runner_of(state).store.results(job.job_id)
    item = await run_blocking(request, _stored_item, state, job)
    assets = {
        f.name: {
            "href": f"{base}/jobs/{job.job_id}/results/assets/{f.name}",
            "type": f.media_type,
            "title": f.title,
            "roles": list(f.roles),
            "file:size": f.size,
        }
        for f in files
        if f.name != ITEM_NAME
    }
    for extra in item.get("assets", {}).values():
        # the run's item names its file by a relative href (./result.tif, ./result.nc)
        key = str(extra.get("href", "")).removeprefix("./") if isinstance(extra, Mapping) else ""
        if key in assets and "raster:bands" in extra:
            assets[key]["raster:bands"] = extra["raster:bands"]
    body = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": item.get("stac_extensions", []),
        "id": job.job_id,
        "geometry": item.get("geometry"),
        "properties": {
            **item.get("properties", {"datetime": job.finished}),
            **({"title": job.title} if job.title else {}),
            "openeo:status": "finished",
        },
        "assets": assets,
        "links": [
            {"rel": "self", "href": f"{base}/jobs/{job.job_id}/results",
             "type": "application/geo+json"},
            {"rel": "canonical", "href": f"{base}/jobs/{job.job_id}/results",
             "type": "application/geo+json"},
        ],
    }
    if item.get("bbox") is not None:
        body["bbox"] = item["bbox"]
    return JSONResponse(body, media_type="application/geo+json")


def _stored_item(state: AppState, job: JobRecord) -> dict[str, Any]:
    """The STAC item the run wrote beside a raster result; for tables, the footprint of
    the collections the graph loads."""
    try:
        content = result_bytes(state, job, ITEM_NAME)
    except LookupError:
        return _source_footprint(state, job)
    loaded = json.loads(content)
    return loaded if isinstance(loaded, dict) else {}


def _source_footprint(state: AppState, job: JobRecord) -> dict[str, Any]:
    """Geometry and bbox (WGS84) around every collection the job's graph loads."""
    boxes = []
    nodes = job.process_graph.values() if isinstance(job.process_graph, dict) else ()
    for node in nodes:
        arguments = node.get("arguments") if isinstance(node, dict) else None
        if isinstance(arguments, dict) and node.get("process_id") == "load_collection":
            if arguments.get("id") in state.catalog:
                boxes.append(state.catalog.get(arguments["id"]).bbox)
    if not boxes:
        return {}
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"bbox": [west, south, east, north],
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


async def download_asset(request: Request) -> Response:
    """``GET /jobs/{job_id}/results/assets/{name}``: one result file (HEAD and Range)."""
    job = await _job(request)
    _finished(job)
    return await result_response(request, state_of(request), job, request.path_params["name"])


async def get_logs(request: Request) -> Response:
    """``GET /jobs/{job_id}/logs``: the job's log entries after ``offset`` (the last id the
    client has), of ``level`` or above, at most ``limit`` with a ``next`` link for more."""
    job = await _job(request)
    query = request.query_params
    level = query.get("level") or "debug"
    if level not in LEVELS:
        raise ArgumentInvalid(f"Unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    after = _integer(query.get("offset"), "offset", 0)
    limit = _integer(query.get("limit"), "limit", 1)
    page = await run_blocking(request, state_of(request).jobs.logs, job.job_id, job.user_id,
                              after, level, limit)
    links = []
    if page.more and page.entries:
        nxt = f"{api_url(request)}/jobs/{job.job_id}/logs?" + urlencode(
            {"offset": page.entries[-1]["id"], "limit": limit, "level": level}
        )
        links.append({"rel": "next", "href": nxt, "type": "application/json"})
    return JSONResponse({"level": level, "logs": page.entries, "links": links})


def _integer(value: str | None, name: str, minimum: int) -> int | None:
    """An optional integer query parameter (empty is absent)."""
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < minimum:
        raise ArgumentInvalid(f"{name!r} must be an integer of at least {minimum}, got {value!r}")
    return int(value)
