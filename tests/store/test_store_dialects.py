"""Migration 7 on SQLite and PostgreSQL alike: jobs remember the API their graph was written
for (older jobs: the draft), stored graphs are keyed per user, and job logs page by id."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from ondemand.batch.results import ResultFile
from ondemand.batch.store import BatchStore
from ondemand.graphstore import ProcessGraphStore
from ondemand.joblogs import LogEntry
from ondemand.jobs import JobStore, now
from ondemand.processes.registry import DRAFT, OPENEO
from ondemand.store import Database
from ondemand.store.base import Transaction
from ondemand.store.migrations import MIGRATIONS, schema_version
from ondemand.store.postgres import PostgresDatabase, PostgresTransaction
from ondemand.store.sqlite import SQLiteDatabase, SQLiteTransaction

GRAPH: dict[str, Any] = {"process_id": "NDVI", "args": {"imagery": {"product_id": "x"}}}


@contextmanager
def _raw(kind: str, location: str) -> Iterator[Transaction]:
    """A transaction on a database that no store has opened (so nothing migrated)."""
    if kind == "sqlite":
        db = sqlite3.connect(location, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("BEGIN")
        yield SQLiteTransaction(db)
        db.execute("COMMIT")
        db.close()
        return
    with psycopg.connect(location, row_factory=dict_row) as conn, conn.transaction():
        yield PostgresTransaction(conn)


def _open(kind: str, location: str) -> Database:
    return SQLiteDatabase(Path(location)) if kind == "sqlite" else PostgresDatabase(location)


@pytest.fixture(params=["sqlite", "postgresql"])
def version_5(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A database at schema version 5 holding a job and a stored graph."""
    kind = request.param
    if kind == "sqlite":
        location = str(tmp_path / "old.sqlite")
    else:
        location = request.getfixturevalue("postgres").create_database(
            f"v5_{uuid.uuid4().hex[:12]}")
    with _raw(kind, location) as tx:
        tx.run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
               "applied TEXT NOT NULL)")
        for version, step in enumerate(MIGRATIONS[:5], start=1):
            step(tx, kind)
            tx.run("INSERT INTO schema_migrations VALUES (?, ?)", (version, now()))
        tx.run("INSERT INTO jobs (job_id, user_id, process_graph, submitted, updated) "
               "VALUES ('old', 'alice', ?, ?, ?)", ('{"a": 1}', now(), now()))
        tx.run("INSERT INTO process_graphs VALUES ('g1', 'alice', ?, ?, ?)",
               ('{"b": 2}', now(), now()))
    return kind, location


def test_migration_7_keeps_old_jobs_as_draft_and_old_graphs(version_5: tuple[str, str]) -> None:
    db = _open(*version_5)
    try:
        with db.transaction() as tx:
            assert schema_version(tx) == len(MIGRATIONS) == 8  # 8: login failures
        jobs = JobStore(db)
        old = jobs.get_job("old", "alice")
        assert (old.dialect, old.process_graph) == (DRAFT, {"a": 1})
        graphs = ProcessGraphStore(jobs)
        assert graphs.get("g1", "alice") == {"b": 2}
        assert graphs.put("g1", "bob", {"c": 3}) is True  # ids are per user now
        assert graphs.get("g1", "alice") == {"b": 2} and graphs.get("g1", "bob") == {"c": 3}
    finally:
        db.close()


def test_a_job_keeps_its_dialect_and_a_patch_can_change_it(database: Database) -> None:
    jobs = JobStore(database)
    job = jobs.create_job("alice", GRAPH, None, "t", OPENEO)
    assert jobs.get_job(job.job_id, "alice").dialect == OPENEO
    assert jobs.list_jobs("alice")[0].dialect == OPENEO
    assert jobs.update_job(job.job_id, "alice", dialect=DRAFT).dialect == DRAFT
    with pytest.raises(ValueError, match="dialect"):
        jobs.create_job("alice", GRAPH, None, None, "2019")


def test_put_creates_then_replaces_under_the_users_id(database: Database) -> None:
    graphs = ProcessGraphStore(JobStore(database))
    assert graphs.put("ndvi", "alice", {"v": 1}) is True
    assert graphs.put("ndvi", "alice", {"v": 2}) is False
    assert graphs.items("alice") == [("ndvi", {"v": 2})]
    assert graphs.items("bob") == []


def _running(database: Database) -> tuple[JobStore, BatchStore, str, str]:
    """A job of alice's whose batch run was queued and claimed: store, queue, job, run."""
    jobs = JobStore(database)
    batch = BatchStore(jobs)
    job = jobs.create_job("alice", GRAPH)
    batch.queue(job.job_id, "alice", None)
    claimed = batch.claim(1)
    assert claimed is not None and claimed.run_id is not None
    return jobs, batch, job.job_id, claimed.run_id


def test_a_batch_run_is_logged_in_order_and_pages_by_id(database: Database) -> None:
    jobs, batch, job_id, run_id = _running(database)
    chunks = [LogEntry("info", f"chunk {i} of 3 done", now(), data={"chunk": i})
              for i in (1, 2, 3)]
    assert batch.progress(job_id, run_id, 90, chunks)
    assert batch.finish(job_id, run_id,
                        [ResultFile("result.tif", "image/tiff", 10, "r", ("data",))])
    everything = jobs.logs(job_id, "alice", None, "debug", None)
    messages = [e["message"] for e in everything.entries]
    assert messages == ["Job created", "Batch run queued", "Batch run started",
                        "chunk 1 of 3 done", "chunk 2 of 3 done", "chunk 3 of 3 done",
                        "Batch run finished: 1 result files"]
    assert everything.entries[3]["data"] == {"chunk": 1} and not everything.more
    ids = [int(e["id"]) for e in everything.entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    page = jobs.logs(job_id, "alice", ids[1], "debug", 2)
    assert [e["message"] for e in page.entries] == messages[2:4] and page.more
    last = jobs.logs(job_id, "alice", ids[-2], "debug", 2)
    assert [e["message"] for e in last.entries] == messages[-1:] and not last.more


def test_a_failed_run_logs_its_error_and_levels_filter(database: Database) -> None:
    jobs, batch, job_id, run_id = _running(database)
    assert batch.fail(job_id, run_id, "Chunk 2 of 4 failed: no data")
    errors = jobs.logs(job_id, "alice", None, "error", None).entries
    assert [(e["level"], e["message"], e.get("code")) for e in errors] == [
        ("error", "Batch run failed: Chunk 2 of 4 failed: no data", "BatchRunFailed")]
    assert len(jobs.logs(job_id, "alice", None, "info", None).entries) == 4
