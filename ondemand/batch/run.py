"""One batch run: chunks evaluated on Dask workers, assembled by the server, recorded.

At most ``in_flight`` chunks are submitted at a time and their arrays are written as
they complete, so the server's memory is bounded by a few chunks plus GDAL's block
cache, whatever the size of the output. The job's row is updated only by this side
(the SQLite file lives on the server's disk); workers just return arrays.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from distributed import Future, KilledWorker

from ..engine import Engine, ResultKind
from ..errors import NoData, OnDemandError, StoreUnavailable
from ..evaluate import CompiledGraph
from ..graphstore import ProcessGraphStore
from ..jobgraphs import expand, registry_for
from ..joblogs import LogEntry
from ..jobs import JobRecord, now
from ..layer import acquisition_times
from ..text import without_paths
from ..userfiles import FileRoot
from .assemble import RasterAssembler
from .chunks import Chunk, split_window
from .cluster import Cluster
from .layout import batch_spec
from .results import ResultFile, raster_file, raster_name, stac_item, staging_dir, write_item
from .storage import ResultStorage
from .store import BatchStore
from .tables import run_table, table_spec
from .worker import ChunkResult, ChunkTask, EngineSpec, evaluate_chunk

log = logging.getLogger("ondemand.batch")

Outcome = Literal["finished", "error", "canceled", "stopped"]
POLL_SECONDS = 0.5
"""How often a run checks for cancellation and records progress."""
WAIT_SECONDS = 0.01
"""Pause of the assembly loop when no chunk has finished."""
ASSEMBLY_PERCENT = 95
"""Progress once every chunk is written; the conversion to the result takes the rest."""
FINISH_PATIENCE_SECONDS = 60.0
"""How long a finished run waits for an unavailable store to record its outcome."""


@dataclass(frozen=True)
class RunContext:
    """What a run needs from the server: cluster, store, engine, where results go."""

    cluster: Cluster
    store: BatchStore
    engine: Engine
    engine_spec: EngineSpec
    data_dir: Path
    files: FileRoot
    results: ResultStorage
    chunk_size: int
    stop: threading.Event


class _Stopped(Exception):
    """The run must stop: canceled or re-queued elsewhere, or the server is stopping."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class _ChunkFailed(Exception):
    """A chunk failed (its own error, or its workers died repeatedly); the message says which."""


def check_output(
    engine: Engine, compiled: CompiledGraph, output: Mapping[str, Any] | None
) -> None:
    """Refuse before queueing what a run would fail on: the result, its options, its grid.

    A table result is stored in a table format (GPKG by default); a raster result as a
    COG (or a netCDF file) on the graph's output window.
    """
    if engine.result_kind(compiled) is ResultKind.TABLE:
        table_spec(output)
    else:
        engine.output_window(compiled, batch_spec(output))


def run_batch(job: JobRecord, ctx: RunContext) -> Outcome:
    """Run a claimed job to the end and record the outcome in the store."""
    assert job.run_id is not None
    run_id = job.run_id
    directory = staging_dir(ctx.data_dir, job.job_id, run_id)
    try:
        return _run(job, run_id, directory, ctx)
    except _Stopped as stopped:
        shutil.rmtree(directory, ignore_errors=True)
        ctx.results.remove_run(job.job_id, run_id)
        if stopped.outcome == "stopped":
            ctx.store.requeue(job.job_id, run_id)
        return stopped.outcome
    except StoreUnavailable:
        # nothing can be recorded: the lease runs out and a server runs the job again
        log.warning("store unavailable; batch run %s of job %s given up", run_id, job.job_id)
        shutil.rmtree(directory, ignore_errors=True)
        ctx.results.remove_run(job.job_id, run_id)
        return "stopped"
    except Exception as exc:
        shutil.rmtree(directory, ignore_errors=True)
        if isinstance(exc, OnDemandError):
            message = exc.message
        elif isinstance(exc, _ChunkFailed):
            message = str(exc)
        else:
            log.exception("batch run %s of job %s failed", run_id, job.job_id)
            message = ("The batch run failed unexpectedly "
                       f"({type(exc).__name__}: {without_paths(str(exc))})")
        ctx.store.fail(job.job_id, run_id, message)
        return "error"


def _run(job: JobRecord, run_id: str, directory: Path, ctx: RunContext) -> Outcome:
    """Plan, evaluate, assemble and record; raises on failure or when stopped."""
    output = job.batch_output if job.batch_output is not None else job.output
    graph = expand(job.process_graph, job.dialect, job.user_id, ProcessGraphStore(ctx.store.jobs),
                   None, ctx.engine.settings.max_graph_nodes)
    compiled = ctx.engine.compile(graph, registry_for(job.dialect))
    if ctx.engine.result_kind(compiled) is ResultKind.TABLE:
        _check(job, run_id, 0, ctx)
        table = run_table(job, compiled, output, directory, ctx.engine, ctx.files)
        return _publish(job, run_id, directory, [table], ctx)
    spec = batch_spec(output)
    window = ctx.engine.output_window(compiled, spec)
    dates = acquisition_times(compiled)
    times = dates if compiled.result_type.has_time else None
    if times is not None and not times:
        raise NoData("The job selects no data: no item matches its bounding box and dates")
    chunks = split_window(window, ctx.chunk_size)
    template = ChunkTask(ctx.engine_spec, _graph_json(graph), spec, times, window, job.dialect)
    assembler = RasterAssembler(directory, window, spec, times)
    result = directory / raster_name(spec.format)
    try:
        _evaluate_chunks(job, run_id, chunks, template, assembler, ctx)
        _check(job, run_id, ASSEMBLY_PERCENT, ctx)
        if not assembler.finish(result):
            raise NoData("The job selects no data: no chunk of its output has data")
    finally:
        assembler.discard()
    assert assembler.layout is not None
    raster = raster_file(result, spec.format)
    item = write_item(directory, stac_item(job.job_id, window, assembler.layout, raster, dates))
    return _publish(job, run_id, directory, [raster, item], ctx)


def _publish(
    job: JobRecord, run_id: str, directory: Path, files: list[ResultFile], ctx: RunContext
) -> Outcome:
    """Move the files to the result storage, then record the run as finished."""
    _check(job, run_id, ASSEMBLY_PERCENT, ctx)
    ctx.results.publish(job.job_id, run_id, directory, [f.name for f in files])
    shutil.rmtree(directory, ignore_errors=True)
    if not finish_when_possible(ctx.store, job.job_id, run_id, files, ctx.stop):
        raise _Stopped("canceled")
    return "finished"


def finish_when_possible(
    store: BatchStore,
    job_id: str,
    run_id: str,
    files: list[ResultFile],
    stop: threading.Event,
    patience: float = FINISH_PATIENCE_SECONDS,
) -> bool:
    """Record a finished run, waiting out a store outage of up to ``patience`` seconds.

    The work is done and published: a database restart should not throw it away.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            return store.finish(job_id, run_id, files)
        except StoreUnavailable:
            if time.monotonic() > deadline or stop.is_set():
                raise
            log.warning("store unavailable; recording batch run %s again shortly", run_id)
            stop.wait(1.0)


def _evaluate_chunks(
    job: JobRecord,
    run_id: str,
    chunks: list[Chunk],
    template: ChunkTask,
    assembler: RasterAssembler,
    ctx: RunContext,
) -> None:
    """Submit chunks in a bounded window and write each as it completes."""
    cluster = ctx.cluster
    in_flight = 4 * cluster.threads()
    completed = cluster.completed()
    chunk_of: dict[Any, Chunk] = {}
    submitted = done_count = 0
    last_check = 0.0
    logs: list[LogEntry] = []
    try:
        while submitted < len(chunks) or completed.pending:
            while submitted < len(chunks) and len(completed.pending) < in_flight:
                chunk = chunks[submitted]
                future = cluster.submit(
                    evaluate_chunk,
                    replace(template, window=chunk.window),
                    key=f"ondemand-batch-{job.job_id}-{run_id}-{chunk.index}",
                )
                chunk_of[future.key] = chunk
                completed.add(future)
                submitted += 1
            ready = completed.ready()
            for future, result in ready:
                chunk = chunk_of.pop(future.key)
                assembler.write(chunk, _chunk_result(future, result, chunk, len(chunks)))
                done_count += 1
                logs.append(LogEntry(
                    "info", f"{chunk.describe(len(chunks)).capitalize()} done", now(),
                    data={"chunk": chunk.index, "chunks": len(chunks), "done": done_count,
                          "progress": done_count * ASSEMBLY_PERCENT // len(chunks)},
                ))
            if not ready:
                time.sleep(WAIT_SECONDS)
            if time.monotonic() - last_check >= POLL_SECONDS or not completed.pending:
                last_check = time.monotonic()
                _check(job, run_id, done_count * ASSEMBLY_PERCENT // len(chunks), ctx, logs)
    finally:
        if completed.pending:
            cluster.cancel(completed.pending)


def _chunk_result(
    future: Future[Any], result: Any, chunk: Chunk, total: int
) -> ChunkResult:
    """The chunk's result, or _ChunkFailed naming the chunk and its error."""
    if future.status == "error":
        exc = future.exception()  # type: ignore[no-untyped-call]
        if isinstance(exc, KilledWorker):
            raise _ChunkFailed(
                f"The Dask workers computing {chunk.describe(total)} died repeatedly; the "
                "chunk may need more memory than a worker has (lower the batch chunk size or "
                "give workers more memory)"
            )
        if isinstance(exc, OnDemandError):
            raise _ChunkFailed(f"{chunk.describe(total).capitalize()} failed: {exc.message}")
        raise _ChunkFailed(
            f"{chunk.describe(total).capitalize()} failed: {type(exc).__name__}: "
            f"{without_paths(str(exc))}"
        )
    assert isinstance(result, ChunkResult)
    return result


def _check(job: JobRecord, run_id: str, percent: int, ctx: RunContext,
           logs: list[LogEntry] | None = None) -> None:
    """Record progress and the log entries gathered since (emptying ``logs``); stop if the
    server is stopping or the run was canceled."""
    if ctx.stop.is_set():
        raise _Stopped("stopped")
    try:
        current = ctx.store.progress(job.job_id, run_id, percent, logs or ())
    except StoreUnavailable:
        log.warning("store unavailable; batch run %s goes on without recording progress", run_id)
        return
    if logs:
        logs.clear()
    if not current:
        raise _Stopped("canceled")


def _graph_json(doc: Any) -> str:
    """The graph as canonical JSON text (the workers' compile cache key)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))
