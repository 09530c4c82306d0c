"""Batch runs as operations shared by both APIs: validate and queue, cancel, locate files.

The draft's ``/jobs/{id}/batch`` and openEO 1.2's ``/jobs/{id}/results`` are two
shapes of these same calls on the one job store and batch runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from ondemand.batch.results import ResultFile
from ondemand.batch.run import check_output
from ondemand.batch.runner import BatchRunner
from ondemand.errors import ResourceNotFound
from ondemand.jobgraphs import compile_job
from ondemand.jobs import JobRecord, check_mode_change

from .ranges import ranged_response
from .state import AppState


def runner_of(state: AppState) -> BatchRunner:
    """The server's batch runner."""
    runner = state.batch
    assert isinstance(runner, BatchRunner)
    return runner


def validate_run(state: AppState, job: JobRecord, output: Mapping[str, Any] | None) -> None:
    """Refuse up front what the run would fail on: the graph, the options, the grid."""
    chosen = output if output is not None else job.output
    check_output(state.engine, compile_job(state.engine, job, state.graphs), chosen)


def queue_run(state: AppState, job: JobRecord, output: Mapping[str, Any] | None) -> JobRecord:
    """Validate and queue a batch run of ``job`` (blocking: call it off the event loop)."""
    check_mode_change(job, "batch")
    validate_run(state, job, output)
    runner = runner_of(state)
    queued, previous = runner.store.queue(job.job_id, job.user_id, output)
    if previous is not None:
        state.results.remove_run(job.job_id, previous)
    runner.wake()
    return queued


def cancel_run(state: AppState, job: JobRecord) -> None:
    """Stop ``job``'s batch run and delete its results."""
    runner = runner_of(state)
    previous = runner.store.cancel(job.job_id, job.user_id)
    if previous is not None:
        state.results.remove_run(job.job_id, previous)
    runner.wake()


def result_file(state: AppState, job: JobRecord, name: str) -> tuple[ResultFile, int]:
    """A finished run's result ``name``: its record and size in the result storage
    (else ResourceNotFound). Blocking: the storage may be a bucket."""
    for result in runner_of(state).store.results(job.job_id):
        if result.name == name and job.run_id is not None:
            size = state.results.size(job.job_id, job.run_id, name)
            if size is not None:
                return result, size
    raise ResourceNotFound(f"Job {job.job_id!r} has no result file {name!r}")


def result_bytes(state: AppState, job: JobRecord, name: str) -> bytes:
    """The whole content of a (small) result file, e.g. the STAC item. Blocking."""
    _, size = result_file(state, job, name)
    assert job.run_id is not None
    return b"".join(state.results.read(job.job_id, job.run_id, name, 0, size))


async def result_response(request: Request, state: AppState, job: JobRecord,
                          name: str) -> Response:
    """A result file as a download from the result storage (HEAD and Range work)."""
    result, size = await anyio.to_thread.run_sync(result_file, state, job, name)
    assert job.run_id is not None
    reader = partial(state.results.read, job.job_id, job.run_id, name)
    return ranged_response(request, size, reader, result.media_type, f"{job.job_id}-{name}")
