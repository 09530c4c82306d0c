"""Job and service records, persisted in SQLite (WAL) under the data dir.

Safe for several server processes on one machine: every operation opens its own
short transaction; SQLite serializes writers and WAL lets readers go on.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import JobModeConflict, ResourceNotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    process_graph TEXT NOT NULL,
    output TEXT,
    mode TEXT NOT NULL DEFAULT 'none',
    status TEXT NOT NULL DEFAULT 'submitted',
    progress INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    submitted TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id);
CREATE TABLE IF NOT EXISTS services (
    service_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    service_type TEXT NOT NULL,
    args TEXT NOT NULL,
    title TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS services_job ON services (job_id);
"""

BATCH_COLUMNS = {
    "batch_output": "TEXT",
    "run_id": "TEXT",
    "queued": "TEXT",
    "started": "TEXT",
    "finished": "TEXT",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns of batch execution added to ``jobs`` (``ALTER TABLE`` on older files)."""

RESULTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    run_id TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    title TEXT,
    roles TEXT NOT NULL DEFAULT '["data"]',
    created TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
"""


def now() -> str:
    """The current UTC time as ISO 8601 with a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class JobRecord:
    """One registered process graph and its execution state."""

    job_id: str
    user_id: str
    title: str | None
    process_graph: Any
    output: dict[str, Any] | None
    mode: str
    status: str
    progress: int
    error: str | None
    submitted: str
    updated: str
    batch_output: dict[str, Any] | None = None
    """The output options a batch run was queued with (None: the job's own)."""
    run_id: str | None = None
    """The current batch run (set while it runs and once it has finished)."""
    queued: str | None = None
    started: str | None = None
    finished: str | None = None
    attempts: int = 0
    """Batch runs started since the job was last queued (restarts after a server stop)."""

    def meta(self) -> dict[str, Any]:
        """The draft's job metadata (``GET /jobs`` entries)."""
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "title": self.title,
            "mode": self.mode,
            "status": self.status,
            "submitted": self.submitted,
            "updated": self.updated,
            "user_id": self.user_id,
            "consumed_credits": 0,
        }
        if self.mode == "batch":
            body["progress"] = self.progress
            body.update(queued=self.queued, started=self.started, finished=self.finished)
        if self.error:
            body["error"] = {"message": self.error}
        return {k: v for k, v in body.items() if v is not None}

    def full(self) -> dict[str, Any]:
        """The draft's full job (``GET /jobs/{id}``), with the graph as submitted."""
        body = self.meta()
        body["process_graph"] = self.process_graph
        if self.output is not None:
            body["output"] = self.output
        return body


@dataclass(frozen=True)
class ServiceRecord:
    """An OGC or tile service publishing one job."""

    service_id: str
    job_id: str
    user_id: str
    service_type: str
    args: dict[str, Any]
    title: str | None
    created: str
    updated: str


class JobStore:
    """Jobs and services of every user in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _add_batch_columns(db)
            db.executescript(RESULTS_SCHEMA)
        finally:
            db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A connection in an immediate transaction, for stores sharing this file."""
        return self._connect()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction (committed on success, rolled back on error)."""
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # ------------------------------------------------------------------ jobs

    def create_job(
        self,
        user_id: str,
        process_graph: Any,
        output: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> JobRecord:
        """Store a new job (status ``submitted``, mode ``none``)."""
        stamp = now()
        job_id = secrets.token_hex(12)
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (job_id, user_id, title, process_graph, output, submitted, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, user_id, title, json.dumps(process_graph), _dump(output), stamp, stamp),
            )
        return self.get_job(job_id, user_id)

    def get_job(self, job_id: str, user_id: str | None) -> JobRecord:
        """A job of ``user_id`` (any user when None); another user's job is not found."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise ResourceNotFound(f"Job {job_id!r} does not exist")
        return _job(row)

    def list_jobs(self, user_id: str) -> list[JobRecord]:
        """Every job of a user, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE user_id = ? ORDER BY submitted", (user_id,)
            ).fetchall()
        return [_job(r) for r in rows]

    def update_job(self, job_id: str, user_id: str | None, **fields: Any) -> JobRecord:
        """Change fields of a job (``process_graph``, ``output``, ``title``, ``mode``, ...)."""
        allowed = {"process_graph", "output", "title", "mode", "status", "progress", "error"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown job fields {sorted(unknown)}")
        self.get_job(job_id, user_id)
        values = {
            k: (json.dumps(v) if k == "process_graph" else _dump(v) if k == "output" else v)
            for k, v in fields.items()
        }
        values["updated"] = now()
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(
                f"UPDATE jobs SET {assignments} WHERE job_id = ?", (*values.values(), job_id)
            )
        return self.get_job(job_id, user_id)

    def delete_job(self, job_id: str, user_id: str | None) -> None:
        """Delete a job and its services."""
        self.get_job(job_id, user_id)
        with self._connect() as db:
            db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))

    # -------------------------------------------------------------- services

    def create_service(
        self,
        job_id: str,
        user_id: str,
        service_type: str,
        args: Mapping[str, Any] | None,
        title: str | None = None,
    ) -> ServiceRecord:
        """Publish a job as a service with an unguessable id."""
        self.get_job(job_id, user_id)
        stamp = now()
        service_id = secrets.token_hex(16)
        with self._connect() as db:
            db.execute(
                "INSERT INTO services (service_id, job_id, user_id, service_type, args, title, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    service_id,
                    job_id,
                    user_id,
                    service_type,
                    json.dumps(dict(args or {})),
                    title,
                    stamp,
                    stamp,
                ),
            )
        return self.get_service(service_id, user_id)

    def get_service(self, service_id: str, user_id: str | None) -> ServiceRecord:
        """A service (of ``user_id`` unless None: service URLs are capability URLs)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM services WHERE service_id = ?", (service_id,)
            ).fetchone()
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise ResourceNotFound(f"Service {service_id!r} does not exist")
        return _service(row)

    def list_services(self, user_id: str) -> list[ServiceRecord]:
        """Every service of a user, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM services WHERE user_id = ? ORDER BY created", (user_id,)
            ).fetchall()
        return [_service(r) for r in rows]

    def update_service(
        self, service_id: str, user_id: str, args: Mapping[str, Any] | None, title: str | None
    ) -> ServiceRecord:
        """Replace a service's arguments and/or title."""
        current = self.get_service(service_id, user_id)
        with self._connect() as db:
            db.execute(
                "UPDATE services SET args = ?, title = ?, updated = ? WHERE service_id = ?",
                (
                    json.dumps(dict(args if args is not None else current.args)),
                    title if title is not None else current.title,
                    now(),
                    service_id,
                ),
            )
        return self.get_service(service_id, user_id)

    def delete_service(self, service_id: str, user_id: str) -> None:
        """Stop and delete a service."""
        self.get_service(service_id, user_id)
        with self._connect() as db:
            db.execute("DELETE FROM services WHERE service_id = ?", (service_id,))


def _add_batch_columns(db: sqlite3.Connection) -> None:
    """Add the batch columns to a ``jobs`` table of an older file (once, under a write lock)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        for name, kind in BATCH_COLUMNS.items():
            if name not in present:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _dump(value: Mapping[str, Any] | None) -> str | None:
    """JSON text of an optional object."""
    return None if value is None else json.dumps(dict(value))


def _job(row: sqlite3.Row) -> JobRecord:
    """A job record from a row."""
    return JobRecord(
        job_id=row["job_id"],
        user_id=row["user_id"],
        title=row["title"],
        process_graph=json.loads(row["process_graph"]),
        output=None if row["output"] is None else json.loads(row["output"]),
        mode=row["mode"],
        status=row["status"],
        progress=row["progress"],
        error=row["error"],
        submitted=row["submitted"],
        updated=row["updated"],
        batch_output=None if row["batch_output"] is None else json.loads(row["batch_output"]),
        run_id=row["run_id"],
        queued=row["queued"],
        started=row["started"],
        finished=row["finished"],
        attempts=row["attempts"],
    )


def _service(row: sqlite3.Row) -> ServiceRecord:
    """A service record from a row."""
    return ServiceRecord(
        service_id=row["service_id"],
        job_id=row["job_id"],
        user_id=row["user_id"],
        service_type=row["service_type"],
        args=json.loads(row["args"]),
        title=row["title"],
        created=row["created"],
        updated=row["updated"],
    )


def check_mode_change(job: JobRecord, wanted: str) -> None:
    """Refuse switching a job between on-demand and batch while the other mode is in use.

    A job publishing services cannot be queued as batch (its services would stop), and a
    batch job that is queued, running or holds results cannot be published (its results
    would become unreachable): the user stops the other mode first or creates another job.
    """
    if wanted == "on_demand" and job.mode == "batch" and job.status in BATCH_BUSY:
        raise JobModeConflict(
            f"Job {job.job_id!r} is a batch job ({job.status}); publishing it would hide its "
            "batch run. Cancel it (DELETE /jobs/{id}/batch) or create another job with the "
            "same process graph (POST /jobs/on_demand)"
        )
    if wanted == "batch" and job.mode == "on_demand" and job.status == "running":
        raise JobModeConflict(
            f"Job {job.job_id!r} runs on demand and its services are live; queueing it as a "
            "batch job would stop them. Stop it (DELETE /jobs/{id}/on_demand) or create "
            "another job with the same process graph"
        )


BATCH_BUSY = frozenset({"queued", "running", "finished"})
"""Batch states that a switch to on-demand would disturb (the run, or its results)."""
