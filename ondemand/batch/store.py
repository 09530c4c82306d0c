"""Batch state in the job store's SQLite file: queue, claims, progress, results.

Every change is one immediate transaction, so several server processes sharing the
file see one consistent queue. A run only changes its job while the job's ``run_id``
is still its own and the job is still running: a run that was canceled, re-queued or
deleted can finish its work but can no longer touch the job.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ResourceNotFound
from ..jobs import JobRecord, JobStore, now
from .results import ResultFile

ACTIVE = ("queued", "running")


class BatchStore:
    """Batch operations on the jobs of a :class:`~ondemand.jobs.JobStore`."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs

    def queue(
        self, job_id: str, user_id: str | None, output: Mapping[str, Any] | None
    ) -> tuple[JobRecord, str | None]:
        """Queue a batch run; returns the job and the previous run, whose files can go.

        A no-op (previous run None) while a run is queued or running already.
        """
        with self.jobs.transaction() as db:
            row = _row(db, job_id, user_id)
            active = row["mode"] == "batch" and row["status"] in ACTIVE
            previous = None if active else row["run_id"]
            if not active:
                stamp = now()
                db.execute("DELETE FROM results WHERE job_id = ?", (job_id,))
                db.execute(
                    "UPDATE jobs SET mode = 'batch', status = 'queued', progress = 0, "
                    "error = NULL, batch_output = ?, run_id = NULL, queued = ?, started = NULL, "
                    "finished = NULL, attempts = 0, updated = ? WHERE job_id = ?",
                    (None if output is None else json.dumps(dict(output)), stamp, stamp, job_id),
                )
        return self.jobs.get_job(job_id, user_id), None if previous is None else str(previous)

    def cancel(self, job_id: str, user_id: str | None) -> str | None:
        """Stop a batch run (queued or running), forget its results; returns that run."""
        with self.jobs.transaction() as db:
            previous = _row(db, job_id, user_id)["run_id"]
            db.execute("DELETE FROM results WHERE job_id = ?", (job_id,))
            db.execute(
                "UPDATE jobs SET status = 'canceled', run_id = NULL, updated = ? "
                "WHERE job_id = ? AND mode = 'batch'",
                (now(), job_id),
            )
        return None if previous is None else str(previous)

    def claim(self, limit: int) -> JobRecord | None:
        """Start the next queued job if fewer than ``limit`` run; fair across users.

        The next job is the oldest queued job of the user with the fewest running jobs.
        """
        with self.jobs.transaction() as db:
            running = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE mode = 'batch' AND status = 'running'"
            ).fetchone()[0]
            if running >= limit:
                return None
            row = db.execute(
                "SELECT j.job_id FROM jobs j WHERE j.mode = 'batch' AND j.status = 'queued' "
                "ORDER BY (SELECT COUNT(*) FROM jobs r WHERE r.user_id = j.user_id "
                "AND r.mode = 'batch' AND r.status = 'running'), j.queued LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            stamp = now()
            db.execute(
                "UPDATE jobs SET status = 'running', run_id = ?, progress = 0, started = ?, "
                "attempts = attempts + 1, updated = ? WHERE job_id = ?",
                (secrets.token_hex(8), stamp, stamp, row["job_id"]),
            )
        return self.jobs.get_job(row["job_id"], None)

    def progress(self, job_id: str, run_id: str, percent: int) -> bool:
        """Record progress; False when the run is no longer the job's running run."""
        with self.jobs.transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET progress = ?, updated = ? "
                "WHERE job_id = ? AND run_id = ? AND status = 'running'",
                (percent, now(), job_id, run_id),
            ).rowcount
        return changed == 1

    def finish(self, job_id: str, run_id: str, files: Sequence[ResultFile]) -> bool:
        """Mark the run finished with its files; False when it was canceled meanwhile."""
        with self.jobs.transaction() as db:
            stamp = now()
            changed = db.execute(
                "UPDATE jobs SET status = 'finished', progress = 100, finished = ?, updated = ? "
                "WHERE job_id = ? AND run_id = ? AND status = 'running'",
                (stamp, stamp, job_id, run_id),
            ).rowcount
            if changed != 1:
                return False
            db.executemany(
                "INSERT OR REPLACE INTO results (job_id, name, run_id, media_type, size, title, "
                "roles, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (job_id, f.name, run_id, f.media_type, f.size, f.title,
                     json.dumps(list(f.roles)), stamp)
                    for f in files
                ],
            )
        return True

    def fail(self, job_id: str, run_id: str, message: str) -> bool:
        """Mark the run failed with a message for the user."""
        with self.jobs.transaction() as db:
            stamp = now()
            changed = db.execute(
                "UPDATE jobs SET status = 'error', error = ?, finished = ?, updated = ? "
                "WHERE job_id = ? AND run_id = ? AND status = 'running'",
                (message, stamp, stamp, job_id, run_id),
            ).rowcount
        return changed == 1

    def requeue(self, job_id: str, run_id: str) -> bool:
        """Put a running run back in the queue (the server is stopping)."""
        with self.jobs.transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET status = 'queued', run_id = NULL, progress = 0, updated = ? "
                "WHERE job_id = ? AND run_id = ? AND status = 'running'",
                (now(), job_id, run_id),
            ).rowcount
        return changed == 1

    def recover(self, max_attempts: int) -> list[str]:
        """Jobs left running by a server that died: queue them again, or fail them.

        Called by the process that runs batch jobs when it takes over, so every job still
        marked running was interrupted. A job interrupted ``max_attempts`` times is marked
        as an error instead (it may be what brings the server down).
        """
        with self.jobs.transaction() as db:
            rows = db.execute(
                "SELECT job_id, attempts FROM jobs WHERE mode = 'batch' AND status = 'running'"
            ).fetchall()
            stamp = now()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET status = 'error', error = ?, run_id = NULL, "
                        "finished = ?, updated = ? WHERE job_id = ?",
                        (
                            f"The batch run was interrupted {row['attempts']} times by a server "
                            "stop and was not restarted again; check the server's memory and "
                            "logs, then queue the job again (POST /jobs/{id}/batch)",
                            stamp,
                            stamp,
                            row["job_id"],
                        ),
                    )
                else:
                    db.execute(
                        "UPDATE jobs SET status = 'queued', run_id = NULL, progress = 0, "
                        "updated = ? WHERE job_id = ?",
                        (stamp, row["job_id"]),
                    )
        return [row["job_id"] for row in rows]

    def results(self, job_id: str) -> list[ResultFile]:
        """The files of the job's finished run, data files first."""
        with self.jobs.transaction() as db:
            rows = db.execute(
                "SELECT * FROM results WHERE job_id = ? ORDER BY name", (job_id,)
            ).fetchall()
        files = [
            ResultFile(r["name"], r["media_type"], r["size"], r["title"] or r["name"],
                       tuple(json.loads(r["roles"])))
            for r in rows
        ]
        return sorted(files, key=lambda f: ("data" not in f.roles, f.name))

    def job_ids(self) -> set[str]:
        """Every job id in the store."""
        with self.jobs.transaction() as db:
            return {row[0] for row in db.execute("SELECT job_id FROM jobs")}

    def active_runs(self) -> dict[str, str]:
        """``{job_id: run_id}`` of the jobs whose results must be kept."""
        with self.jobs.transaction() as db:
            rows = db.execute(
                "SELECT job_id, run_id FROM jobs WHERE mode = 'batch' AND run_id IS NOT NULL "
                "AND status IN ('running', 'finished')"
            ).fetchall()
        return {row["job_id"]: row["run_id"] for row in rows}


def _row(db: sqlite3.Connection, job_id: str, user_id: str | None) -> sqlite3.Row:
    """The job's row (of ``user_id`` unless None), else ResourceNotFound."""
    row = db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None or (user_id is not None and row["user_id"] != user_id):
        raise ResourceNotFound(f"Job {job_id!r} does not exist")
    assert isinstance(row, sqlite3.Row)
    return row
