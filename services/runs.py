"""Batch runs as operations shared by both APIs: validate and queue, cancel, locate files.

The draft's ``/jobs/{id}/batch`` and openEO 1.2's ``/jobs/{id}/results`` are two
shapes of these same calls on the one job store and batch runner.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ondemand.batch.results import ResultFile, run_dir
from ondemand.batch.run import check_output
from ondemand.batch.runner import BatchRunner
from ondemand.errors import ResourceNotFound
from ondemand.jobs import JobRecord, check_mode_change

from .state import AppState


def runner_of(state: AppState) -> BatchRunner:
    """The server's batch runner."""
    runner = state.batch
    assert isinstance(runner, BatchRunner)
    return runner


def validate_run(state: AppState, job: JobRecord, output: Mapping[str, Any] | None) -> None:
    """Refuse up front what the run would fail on: the graph, the options, the grid."""
    chosen = output if output is not None else job.output
    check_output(state.engine, state.engine.compile(job.process_graph), chosen)


def queue_run(state: AppState, job: JobRecord, output: Mapping[str, Any] | None) -> JobRecord:
    """Validate and queue a batch run of ``job`` (blocking: call it off the event loop)."""
    check_mode_change(job, "batch")
    validate_run(state, job, output)
    runner = runner_of(state)
    queued, previous = runner.store.queue(job.job_id, job.user_id, output)
    if previous is not None:
        shutil.rmtree(run_dir(state.settings.data_dir, job.job_id, previous), ignore_errors=True)
    runner.wake()
    return queued


def cancel_run(state: AppState, job: JobRecord) -> None:
    """Stop ``job``'s batch run and delete its results."""
    runner = runner_of(state)
    previous = runner.store.cancel(job.job_id, job.user_id)
    if previous is not None:
        shutil.rmtree(run_dir(state.settings.data_dir, job.job_id, previous), ignore_errors=True)
    runner.wake()


def result_path(state: AppState, job: JobRecord, name: str) -> tuple[Path, ResultFile]:
    """The file of a finished run's result ``name`` and its record (else ResourceNotFound)."""
    for result in runner_of(state).store.results(job.job_id):
        if result.name == name and job.run_id is not None:
            path = run_dir(state.settings.data_dir, job.job_id, job.run_id) / name
            if path.is_file():
                return path, result
    raise ResourceNotFound(f"Job {job.job_id!r} has no result file {name!r}")
