"""The batch state in the job store (SQLite and PostgreSQL): queue, fair claims, recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ondemand.batch.results import ResultFile
from ondemand.batch.store import BatchStore
from ondemand.jobs import JobStore
from ondemand.store import Database

GRAPH = {"process_id": "NDVI", "args": {}}


@pytest.fixture()
def store(database: Database) -> BatchStore:
    """The batch store on each kind of database (SQLite, PostgreSQL)."""
    return BatchStore(JobStore(database))


def queued(store: BatchStore, user: str) -> str:
    job = store.jobs.create_job(user, GRAPH)
    store.queue(job.job_id, user, None)
    return job.job_id


def test_claims_are_fair_across_users_and_limited(store: BatchStore) -> None:
    alice = [queued(store, "alice") for _ in range(3)]
    bob = queued(store, "bob")
    first = store.claim(limit=3)
    second = store.claim(limit=3)
    third = store.claim(limit=3)
    assert first is not None and second is not None and third is not None
    # alice queued first, then bob (who has nothing running) goes before alice's second job
    assert [first.job_id, second.job_id, third.job_id] == [alice[0], bob, alice[1]]
    assert store.claim(limit=3) is None  # three running: the limit
    assert first.status == "running" and first.run_id and first.attempts == 1


def test_a_run_cannot_touch_its_job_once_canceled(store: BatchStore) -> None:
    job_id = queued(store, "u")
    job = store.claim(limit=1)
    assert job is not None and job.run_id is not None
    assert store.progress(job_id, job.run_id, 40)
    assert store.cancel(job_id, "u") == job.run_id
    assert not store.progress(job_id, job.run_id, 50)
    file = ResultFile("result.tif", "image/tiff", 1, "r", ("data",))
    assert not store.finish(job_id, job.run_id, [file])
    assert not store.fail(job_id, job.run_id, "boom")
    record = store.jobs.get_job(job_id, "u")
    assert (record.status, record.progress, store.results(job_id)) == ("canceled", 40, [])


def test_queue_is_a_no_op_while_active(store: BatchStore) -> None:
    job_id = queued(store, "u")
    job, previous = store.queue(job_id, "u", {"format": "GTiff"})
    assert previous is None and job.batch_output is None  # unchanged


@pytest.mark.parametrize(("attempts", "status"), [(1, "queued"), (3, "error")])
def test_recover_interrupted_runs(store: BatchStore, attempts: int, status: str) -> None:
    job_id = queued(store, "u")
    for _ in range(attempts):
        assert store.claim(limit=1) is not None
        if _ < attempts - 1:
            store.recover(max_attempts=99)
    assert store.recover(max_attempts=3) == [job_id]
    job = store.jobs.get_job(job_id, None)
    assert job.status == status and job.run_id is None
    if status == "error":
        assert job.error and "interrupted 3 times" in job.error
        assert f"POST /jobs/{job_id}/batch" in job.error and "{id}" not in job.error


def test_old_job_file_gains_the_batch_columns(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT, "
        "process_graph TEXT NOT NULL, output TEXT, mode TEXT NOT NULL DEFAULT 'none', "
        "status TEXT NOT NULL DEFAULT 'submitted', progress INTEGER NOT NULL DEFAULT 0, "
        "error TEXT, submitted TEXT NOT NULL, updated TEXT NOT NULL);"
        "INSERT INTO jobs (job_id, user_id, process_graph, submitted, updated) "
        "VALUES ('old', 'u', '{}', 't', 't');"
    )
    db.commit()
    db.close()
    for _ in range(2):  # opening twice (another process) is fine
        jobs = JobStore(path)
    job = jobs.get_job("old", "u")
    assert (job.status, job.attempts, job.run_id) == ("submitted", 0, None)
    store = BatchStore(jobs)
    store.queue("old", "u", None)
    assert store.claim(limit=1) is not None
