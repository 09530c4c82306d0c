"""The job store's contract, run against SQLite and a real PostgreSQL alike."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ondemand.batch.results import ResultFile
from ondemand.batch.run import finish_when_possible
from ondemand.batch.store import BatchStore
from ondemand.errors import ArgumentInvalid, ResourceNotFound, StoreUnavailable
from ondemand.graphstore import ProcessGraphStore
from ondemand.jobs import JobStore
from ondemand.store import Database
from ondemand.store.migrations import MIGRATIONS, migrate, schema_version
from ondemand.store.postgres import PostgresDatabase
from ondemand.tokens import TokenStore
from tests.support.postgres import Postgres

GRAPH: dict[str, Any] = {"process_id": "NDVI", "args": {"imagery": {"product_id": "x"}}}


@pytest.fixture()
def jobs(database: Database) -> JobStore:
    return JobStore(database)


def test_schema_is_at_the_latest_version_and_migrating_again_does_nothing(
    database: Database,
) -> None:
    with database.transaction() as tx:
        assert schema_version(tx) == len(MIGRATIONS)
        assert migrate(tx, database.dialect) == []


def test_job_round_trip_keeps_every_field(jobs: JobStore) -> None:
    job = jobs.create_job("alice", GRAPH, {"format": "GTiff"}, title="NDVI")
    again = jobs.get_job(job.job_id, "alice")
    assert again == job
    assert (again.process_graph, again.output, again.title) == (GRAPH, {"format": "GTiff"}, "NDVI")
    assert (again.mode, again.status, again.progress, again.attempts) == ("none", "submitted", 0, 0)
    changed = jobs.update_job(job.job_id, "alice", title="New", mode="on_demand",
                              status="running", output=None)
    assert (changed.title, changed.mode, changed.status, changed.output) == (
        "New", "on_demand", "running", None)
    assert changed.updated >= job.updated


def test_users_are_isolated(jobs: JobStore) -> None:
    job = jobs.create_job("alice", GRAPH)
    with pytest.raises(ResourceNotFound):
        jobs.get_job(job.job_id, "bob")
    with pytest.raises(ResourceNotFound):
        jobs.delete_job(job.job_id, "bob")
    with pytest.raises(ResourceNotFound):
        jobs.create_service(job.job_id, "bob", "xyz", {})
    assert jobs.list_jobs("bob") == []
    assert [j.job_id for j in jobs.list_jobs("alice")] == [job.job_id]


def test_jobs_are_listed_oldest_first(jobs: JobStore) -> None:
    made = [jobs.create_job("u", {**GRAPH, "n": i}).job_id for i in range(5)]
    assert [j.job_id for j in jobs.list_jobs("u")] == made


def test_unknown_job_fields_are_refused(jobs: JobStore) -> None:
    job = jobs.create_job("u", GRAPH)
    with pytest.raises(ValueError, match="unknown job fields"):
        jobs.update_job(job.job_id, "u", submitted="2000-01-01")


def test_services_round_trip_and_go_with_their_job(jobs: JobStore) -> None:
    job = jobs.create_job("u", GRAPH)
    service = jobs.create_service(job.job_id, "u", "wmts", {"layer": "a"}, "My map")
    assert jobs.get_service(service.service_id, None) == service
    assert jobs.get_service(service.service_id, "u").args == {"layer": "a"}
    updated = jobs.update_service(service.service_id, "u", None, "Renamed")
    assert (updated.args, updated.title) == ({"layer": "a"}, "Renamed")
    assert [s.service_id for s in jobs.list_services("u")] == [service.service_id]
    jobs.delete_job(job.job_id, "u")
    with pytest.raises(ResourceNotFound):
        jobs.get_service(service.service_id, None)
    assert jobs.list_services("u") == []


def test_service_types_are_a_parameter_of_the_store(database: Database) -> None:
    narrow = JobStore(database, service_types=("xyz",))
    job = narrow.create_job("u", GRAPH)
    with pytest.raises(ArgumentInvalid, match="'wcs' is not supported; use one of xyz"):
        narrow.create_service(job.job_id, "u", "wcs", {})
    assert JobStore(database, service_types=None).create_service(job.job_id, "u", "new", {})


def test_tokens_issue_check_revoke_and_expire(database: Database) -> None:
    tokens = TokenStore(database, ttl_seconds=60)
    token, expires = tokens.issue("alice")
    assert tokens.user_of(token) == "alice" and expires > time.time() + 50
    other, _ = tokens.issue("alice")
    tokens.revoke(token)
    assert tokens.user_of(token) is None and tokens.user_of(other) == "alice"
    tokens.revoke_user("alice")
    assert tokens.user_of(other) is None
    short = TokenStore(database, ttl_seconds=-1)
    expired, _ = short.issue("bob")
    assert short.user_of(expired) is None
    assert tokens.user_of("never-issued") is None


def test_concurrent_creates_are_all_kept(jobs: JobStore) -> None:
    made: list[str] = []
    lock = threading.Lock()

    def create(n: int) -> None:
        for i in range(10):
            job_id = jobs.create_job("u", {**GRAPH, "n": n * 100 + i}).job_id
            with lock:
                made.append(job_id)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = [j.job_id for j in jobs.list_jobs("u")]
    assert sorted(listed) == sorted(made) and len(set(listed)) == 60


def test_concurrent_claims_never_exceed_the_limit_nor_share_a_job(jobs: JobStore) -> None:
    store = BatchStore(jobs)
    for i in range(12):
        job = jobs.create_job(f"user{i % 3}", GRAPH)
        store.queue(job.job_id, job.user_id, None)
    claimed: list[str] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        for _ in range(6):
            job = store.claim(limit=5, owner=owner)
            if job is not None:
                with lock:
                    claimed.append(job.job_id)

    threads = [threading.Thread(target=claim, args=(f"node{n}/1",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 5 and len(set(claimed)) == 5
    running = [j for u in range(3) for j in jobs.list_jobs(f"user{u}") if j.status == "running"]
    assert sorted(j.job_id for j in running) == sorted(claimed)


def test_an_expired_lease_is_taken_over_and_the_old_run_cannot_record(jobs: JobStore) -> None:
    store = BatchStore(jobs)
    job = jobs.create_job("u", GRAPH)
    store.queue(job.job_id, "u", None)
    first = store.claim(limit=1, owner="a/1", lease_seconds=0.5)
    assert first is not None and first.run_id is not None
    assert store.heartbeat("a/1", [first.run_id], 0.5) == {first.run_id}
    assert store.recover_expired(3) == []  # renewed: still held
    time.sleep(0.7)
    assert store.recover_expired(3) == [job.job_id]
    second = store.claim(limit=1, owner="b/1", lease_seconds=30)
    assert second is not None and second.run_id != first.run_id and second.attempts == 2
    assert store.heartbeat("a/1", [first.run_id], 30) == set()
    assert not store.progress(job.job_id, first.run_id, 50)
    assert not store.finish(job.job_id, first.run_id, [])
    files = [ResultFile("result.tif", "image/tiff", 10, "Result", ("data",))]
    assert store.finish(job.job_id, second.run_id, files)
    finished = jobs.get_job(job.job_id, "u")
    assert (finished.status, finished.run_id, finished.progress) == (
        "finished", second.run_id, 100)
    assert store.results(job.job_id) == files


def test_recovery_by_node_takes_its_own_runs_and_leaves_live_ones(jobs: JobStore) -> None:
    store = BatchStore(jobs)
    for user in ("a", "b"):
        job = jobs.create_job(user, GRAPH)
        store.queue(job.job_id, user, None)
    mine = store.claim(limit=2, owner="node-a/11", lease_seconds=60)
    theirs = store.claim(limit=2, owner="node-b/12", lease_seconds=60)
    assert mine is not None and theirs is not None
    assert store.recover(3, node="node-a") == [mine.job_id]
    assert jobs.get_job(theirs.job_id, None).status == "running"
    assert jobs.get_job(mine.job_id, None).status == "queued"


def test_a_finished_run_waits_out_a_database_restart(postgres: Postgres) -> None:
    db = PostgresDatabase(postgres.create_database("outage"), wait_seconds=0.5)
    try:
        jobs = JobStore(db)
        store = BatchStore(jobs)
        job = jobs.create_job("u", GRAPH)
        store.queue(job.job_id, "u", None)
        claimed = store.claim(limit=1, owner="a/1")
        assert claimed is not None and claimed.run_id is not None
        files = [ResultFile("result.tif", "image/tiff", 10, "Result", ("data",))]
        postgres.stop()
        restart = threading.Timer(2.0, postgres.start)
        try:
            with pytest.raises(StoreUnavailable):
                jobs.get_job(job.job_id, "u")
            with pytest.raises(StoreUnavailable):
                finish_when_possible(store, job.job_id, claimed.run_id, files,
                                     threading.Event(), patience=0)
            restart.start()
            assert finish_when_possible(store, job.job_id, claimed.run_id, files,
                                        threading.Event(), patience=60)
        finally:
            if restart.ident is None:  # failed before the restart was scheduled
                postgres.start()
            else:
                restart.join()
        finished = jobs.get_job(job.job_id, "u")  # the same pool, reconnected
        assert (finished.status, finished.run_id) == ("finished", claimed.run_id)
        assert store.results(job.job_id) == files
    finally:
        db.close()


def test_stored_process_graphs_round_trip_per_user(jobs: JobStore) -> None:
    graphs = ProcessGraphStore(jobs)
    first = graphs.create("alice", GRAPH)
    second = graphs.create("alice", {**GRAPH, "n": 2})
    assert graphs.list("alice") == [first, second]
    assert graphs.get(first, "alice") == GRAPH
    graphs.replace(first, "alice", {**GRAPH, "n": 3})
    assert graphs.get(first, "alice") == {**GRAPH, "n": 3}
    assert graphs.list("bob") == []
    for refused in (
        lambda: graphs.get(first, "bob"),
        lambda: graphs.replace(first, "bob", GRAPH),
        lambda: graphs.delete(first, "bob"),
    ):
        with pytest.raises(ResourceNotFound):
            refused()
    graphs.delete(first, "alice")
    assert graphs.list("alice") == [second]
    with pytest.raises(ResourceNotFound):
        graphs.get(first, "alice")
