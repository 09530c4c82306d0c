"""Job and service records and their store (SQLite or PostgreSQL, see :mod:`ondemand.store`).

Every operation is one short transaction, so several server processes, on one machine
(SQLite) or on many (PostgreSQL), see one consistent set of jobs and services.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ArgumentInvalid, JobModeConflict, ResourceNotFound
from .joblogs import LogEntry, LogPage, add_entries, read_entries
from .processes.registry import DRAFT, OPENEO
from .store import Database, Transaction
from .store.base import Row
from .store.sqlite import SQLiteDatabase

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


DIALECTS = (DRAFT, OPENEO)
"""The APIs a job's graph can be written for: the 2018 draft's and openEO 1.x's."""


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
    dialect: str = DRAFT
    """The API the graph was written for (``draft`` or ``openeo``): its processes' meanings."""

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
    """Jobs and services of every user in one database."""

    def __init__(
        self, db: Database | Path, service_types: Collection[str] | None = None
    ) -> None:
        self.db: Database = SQLiteDatabase(db) if isinstance(db, Path) else db
        self.service_types = None if service_types is None else tuple(service_types)
        """Accepted service types (None: any); the protocols registered decide."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A transaction, for stores sharing this database (the batch queue)."""
        return self.db.transaction()

    # ------------------------------------------------------------------ jobs

    def create_job(
        self,
        user_id: str,
        process_graph: Any,
        output: Mapping[str, Any] | None = None,
        title: str | None = None,
        dialect: str = DRAFT,
    ) -> JobRecord:
        """Store a new job (status ``submitted``, mode ``none``) whose graph was written for
        ``dialect`` (the API it came through)."""
        _check_dialect(dialect)
        stamp = now()
        job_id = secrets.token_hex(12)
        with self.db.transaction() as db:
            db.run(
                "INSERT INTO jobs (job_id, user_id, title, process_graph, output, submitted, "
                "updated, dialect) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, user_id, title, json.dumps(process_graph), _dump(output), stamp, stamp,
                 dialect),
            )
            add_entries(db, job_id, [LogEntry("info", "Job created", stamp)])
        return self.get_job(job_id, user_id)

    def get_job(self, job_id: str, user_id: str | None) -> JobRecord:
        """A job of ``user_id`` (any user when None); another user's job is not found."""
        with self.db.transaction() as db:
            row = db.one("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise ResourceNotFound(f"Job {job_id!r} does not exist")
        return _job(row)

    def list_jobs(self, user_id: str) -> list[JobRecord]:
        """Every job of a user, oldest first."""
        with self.db.transaction() as db:
            rows = db.query(
                "SELECT * FROM jobs WHERE user_id = ? ORDER BY submitted, job_id", (user_id,)
            )
        return [_job(r) for r in rows]

    def update_job(self, job_id: str, user_id: str | None, **fields: Any) -> JobRecord:
        """Change fields of a job (``process_graph`` with its ``dialect``, ``output``,
        ``title``, ``mode``, ...)."""
        allowed = {
            "process_graph", "dialect", "output", "title", "mode", "status", "progress", "error"
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown job fields {sorted(unknown)}")
        if "dialect" in fields:
            _check_dialect(fields["dialect"])
        self.get_job(job_id, user_id)
        values = {
            k: (json.dumps(v) if k == "process_graph" else _dump(v) if k == "output" else v)
            for k, v in fields.items()
        }
        values["updated"] = now()
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self.db.transaction() as db:
            db.run(
                f"UPDATE jobs SET {assignments} WHERE job_id = ?", (*values.values(), job_id)
            )
        return self.get_job(job_id, user_id)

    def logs(self, job_id: str, user_id: str | None, after: int | None, level: str,
             limit: int | None) -> LogPage:
        """A job's log entries of ``level`` or above after id ``after``, at most ``limit``."""
        self.get_job(job_id, user_id)
        with self.db.transaction() as db:
            return read_entries(db, job_id, after, level, limit)

    def delete_job(self, job_id: str, user_id: str | None) -> None:
        """Delete a job and its services."""
        self.get_job(job_id, user_id)
        with self.db.transaction() as db:
            db.run("DELETE FROM jobs WHERE job_id = ?", (job_id,))

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
        if self.service_types is not None and service_type not in self.service_types:
            raise ArgumentInvalid(
                f"Service type {service_type!r} is not supported; use one of "
                f"{', '.join(self.service_types)}"
            )
        self.get_job(job_id, user_id)
        stamp = now()
        service_id = secrets.token_hex(16)
        with self.db.transaction() as db:
            db.run(
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
        with self.db.transaction() as db:
            row = db.one("SELECT * FROM services WHERE service_id = ?", (service_id,))
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise ResourceNotFound(f"Service {service_id!r} does not exist")
        return _service(row)

    def list_services(self, user_id: str) -> list[ServiceRecord]:
        """Every service of a user, oldest first."""
        with self.db.transaction() as db:
            rows = db.query(
                "SELECT * FROM services WHERE user_id = ? ORDER BY created, service_id",
                (user_id,),
            )
        return [_service(r) for r in rows]

    def update_service(
        self, service_id: str, user_id: str, args: Mapping[str, Any] | None, title: str | None
    ) -> ServiceRecord:
        """Replace a service's arguments and/or title."""
        current = self.get_service(service_id, user_id)
        with self.db.transaction() as db:
            db.run(
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
        with self.db.transaction() as db:
            db.run("DELETE FROM services WHERE service_id = ?", (service_id,))


def _check_dialect(dialect: str) -> None:
    """ValueError unless ``dialect`` is one the engine reads."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown process graph dialect {dialect!r}")


def _dump(value: Mapping[str, Any] | None) -> str | None:
    """JSON text of an optional object."""
    return None if value is None else json.dumps(dict(value))


def _job(row: Row) -> JobRecord:
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
        dialect=row["dialect"],
    )


def _service(row: Row) -> ServiceRecord:
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
            f"batch run. Cancel it (DELETE /jobs/{job.job_id}/batch) or create another job "
            "with the same process graph (POST /jobs/on_demand)"
        )
    if wanted == "batch" and job.mode == "on_demand" and job.status == "running":
        raise JobModeConflict(
            f"Job {job.job_id!r} runs on demand and its services are live; queueing it as a "
            f"batch job would stop them. Stop it (DELETE /jobs/{job.job_id}/on_demand) or "
            "create another job with the same process graph"
        )


BATCH_BUSY = frozenset({"queued", "running", "finished"})
"""Batch states that a switch to on-demand would disturb (the run, or its results)."""
