"""Batch state in the job store's database: queue, claims with leases, progress, results.

Every change is one transaction, so servers sharing the database (processes of one
machine on SQLite, machines on PostgreSQL) see one consistent queue. Claims serialize
on a lock, so the limit of running jobs holds across servers. A claimed run holds a
lease that its server renews (:meth:`BatchStore.heartbeat`); a run whose lease expired
(its server died or lost the database) is queued again by any server
(:meth:`BatchStore.recover`), under a new run id. A run only changes its job while the
job's ``run_id`` is still its own and the job is still running: a run that was
canceled, re-queued, taken over or deleted can finish its work but can no longer touch
the job, so no run's outcome is recorded twice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ResourceNotFound
from ..joblogs import LogEntry, add_entries
from ..jobs import JobRecord, JobStore, now
from ..store import Transaction
from ..store.base import Params, Row
from .results import ResultFile

ACTIVE = ("queued", "running")
LEASE_SECONDS = 60.0
"""Default lease of a claimed run; servers renew it well before it ends."""


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
                db.run("DELETE FROM results WHERE job_id = ?", (job_id,))
                db.run(
                    "UPDATE jobs SET mode = 'batch', status = 'queued', progress = 0, "
                    "error = NULL, batch_output = ?, run_id = NULL, queued = ?, started = NULL, "
                    "finished = NULL, attempts = 0, lease_owner = NULL, lease_expires = NULL, "
                    "updated = ? WHERE job_id = ?",
                    (None if output is None else json.dumps(dict(output)), stamp, stamp, job_id),
                )
                add_entries(db, job_id, [LogEntry("info", "Batch run queued", stamp)])
        return self.jobs.get_job(job_id, user_id), None if previous is None else str(previous)

    def cancel(self, job_id: str, user_id: str | None) -> str | None:
        """Stop a batch run (queued or running), forget its results; returns that run."""
        with self.jobs.transaction() as db:
            previous = _row(db, job_id, user_id)["run_id"]
            db.run("DELETE FROM results WHERE job_id = ?", (job_id,))
            stamp = now()
            changed = db.run(
                "UPDATE jobs SET status = 'canceled', run_id = NULL, lease_owner = NULL, "
                "lease_expires = NULL, updated = ? WHERE job_id = ? AND mode = 'batch'",
                (stamp, job_id),
            )
            if changed:
                add_entries(db, job_id, [LogEntry("info", "Batch run canceled", stamp)])
        return None if previous is None else str(previous)

    def claim(
        self, limit: int, owner: str = "local", lease_seconds: float = LEASE_SECONDS
    ) -> JobRecord | None:
        """Start the next queued job if fewer than ``limit`` run; fair across users.

        The next job is the oldest queued job of the user with the fewest running jobs.
        ``owner`` names the claiming server; it holds the run for ``lease_seconds``.
        """
        with self.jobs.transaction() as db:
            db.lock("ondemand-batch-claim")
            running = db.one(
                "SELECT COUNT(*) AS n FROM jobs WHERE mode = 'batch' AND status = 'running'"
            )
            if running is None or running["n"] >= limit:
                return None
            row = db.one(
                "SELECT j.job_id FROM jobs j WHERE j.mode = 'batch' AND j.status = 'queued' "
                "ORDER BY (SELECT COUNT(*) FROM jobs r WHERE r.user_id = j.user_id "
                "AND r.mode = 'batch' AND r.status = 'running'), j.queued, j.job_id LIMIT 1"
            )
            if row is None:
                return None
            stamp = now()
            db.run(
                "UPDATE jobs SET status = 'running', run_id = ?, progress = 0, started = ?, "
                "attempts = attempts + 1, lease_owner = ?, lease_expires = ?, updated = ? "
                "WHERE job_id = ? AND status = 'queued'",
                (secrets.token_hex(8), stamp, owner, db.clock() + lease_seconds, stamp,
                 row["job_id"]),
            )
            add_entries(db, row["job_id"], [LogEntry("info", "Batch run started", stamp)])
        return self.jobs.get_job(row["job_id"], None)

    def heartbeat(self, owner: str, run_ids: Sequence[str], lease_seconds: float) -> set[str]:
        """Extend the leases of ``owner``'s runs; the runs it still holds."""
        if not run_ids:
            return set()
        marks = ", ".join("?" for _ in run_ids)
        with self.jobs.transaction() as db:
            until = db.clock() + lease_seconds
            db.run(
                f"UPDATE jobs SET lease_expires = ? WHERE lease_owner = ? AND status = 'running' "
                f"AND run_id IN ({marks})",
                (until, owner, *run_ids),
            )
            rows = db.query(
                f"SELECT run_id FROM jobs WHERE lease_owner = ? AND status = 'running' "
                f"AND run_id IN ({marks})",
                (owner, *run_ids),
            )
        return {str(r["run_id"]) for r in rows}

    def progress(
        self, job_id: str, run_id: str, percent: int, logs: Sequence[LogEntry] = ()
    ) -> bool:
        """Record progress (and ``logs``); False when the run is no longer the job's
        running run."""
        with self.jobs.transaction() as db:
            changed = _update_run(db, job_id, run_id, "progress = ?", (percent,))
            if changed and logs:
                add_entries(db, job_id, logs)
        return changed

    def finish(self, job_id: str, run_id: str, files: Sequence[ResultFile]) -> bool:
        """Mark the run finished with its files; False when it was canceled meanwhile."""
        with self.jobs.transaction() as db:
            stamp = now()
            if not _update_run(db, job_id, run_id, "status = 'finished', progress = 100, "
                               "finished = ?, lease_owner = NULL, lease_expires = NULL",
                               (stamp,), stamp):
                return False
            add_entries(db, job_id, [LogEntry(
                "info", f"Batch run finished: {len(files)} result files", stamp,
                data={"files": [f.name for f in files]},
            )])
            db.run_many(
                "INSERT INTO results (job_id, name, run_id, media_type, size, title, roles, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, name) DO UPDATE "
                "SET run_id = excluded.run_id, media_type = excluded.media_type, "
                "size = excluded.size, title = excluded.title, roles = excluded.roles, "
                "created = excluded.created",
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
            changed = _update_run(db, job_id, run_id, "status = 'error', error = ?, "
                                  "finished = ?, lease_owner = NULL, lease_expires = NULL",
                                  (message, stamp), stamp)
            if changed:
                add_entries(db, job_id, [LogEntry("error", f"Batch run failed: {message}",
                                                  stamp, code="BatchRunFailed")])
        return changed

    def requeue(self, job_id: str, run_id: str) -> bool:
        """Put a running run back in the queue (the server is stopping)."""
        with self.jobs.transaction() as db:
            stamp = now()
            changed = _update_run(db, job_id, run_id, "status = 'queued', run_id = NULL, "
                                  "progress = 0, lease_owner = NULL, lease_expires = NULL",
                                  (), stamp)
            if changed:
                add_entries(db, job_id, [LogEntry(
                    "warning", "Batch run interrupted (the server is stopping); queued again",
                    stamp)])
        return changed

    def recover(self, max_attempts: int, node: str | None = None) -> list[str]:
        """Runs whose server died: queue them again, or fail them; their job ids.

        With ``node`` None every running run is taken as interrupted (one machine, whose
        batch leader is the caller). Otherwise the runs whose lease expired and those
        owned by ``node`` (this machine, whose previous leader died) are. A job
        interrupted ``max_attempts`` times is marked as an error instead (it may be what
        brings servers down).
        """
        if node is None:
            return self._recover(max_attempts, "", lambda db: ())
        return self._recover(
            max_attempts,
            " AND (lease_expires IS NULL OR lease_expires < ? OR lease_owner LIKE ?)",
            lambda db: (db.clock(), f"{node}/%"),
        )

    def recover_expired(self, max_attempts: int) -> list[str]:
        """Runs whose lease expired (their server stopped renewing it): as :meth:`recover`."""
        return self._recover(
            max_attempts,
            " AND (lease_expires IS NULL OR lease_expires < ?)",
            lambda db: (db.clock(),),
        )

    def _recover(
        self, max_attempts: int, condition: str, params: Callable[[Transaction], Params]
    ) -> list[str]:
        """Re-queue (or fail) the running runs matching ``condition``."""
        with self.jobs.transaction() as db:
            db.lock("ondemand-batch-claim")
            rows = db.query(
                "SELECT job_id, attempts FROM jobs WHERE mode = 'batch' AND status = 'running'"
                + condition,
                params(db),
            )
            stamp = now()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    add_entries(db, row["job_id"], [LogEntry(
                        "error", f"Batch run interrupted {row['attempts']} times by server "
                        "stops; not restarted again", stamp, code="BatchRunFailed")])
                    db.run(
                        "UPDATE jobs SET status = 'error', error = ?, run_id = NULL, "
                        "lease_owner = NULL, lease_expires = NULL, finished = ?, updated = ? "
                        "WHERE job_id = ?",
                        (
                            f"The batch run was interrupted {row['attempts']} times by a server "
                            "stop and was not restarted again; check the server's memory and "
                            f"logs, then queue the job again (POST /jobs/{row['job_id']}/batch)",
                            stamp,
                            stamp,
                            row["job_id"],
                        ),
                    )
                else:
                    add_entries(db, row["job_id"], [LogEntry(
                        "warning", "Batch run interrupted by a server stop; queued again",
                        stamp)])
                    db.run(
                        "UPDATE jobs SET status = 'queued', run_id = NULL, progress = 0, "
                        "lease_owner = NULL, lease_expires = NULL, updated = ? WHERE job_id = ?",
                        (stamp, row["job_id"]),
                    )
        return [str(row["job_id"]) for row in rows]

    def results(self, job_id: str) -> list[ResultFile]:
        """The files of the job's finished run, data files first."""
        with self.jobs.transaction() as db:
            rows = db.query("SELECT * FROM results WHERE job_id = ? ORDER BY name", (job_id,))
        files = [
            ResultFile(r["name"], r["media_type"], int(r["size"]), r["title"] or r["name"],
                       tuple(json.loads(r["roles"])))
            for r in rows
        ]
        return sorted(files, key=lambda f: ("data" not in f.roles, f.name))

    def job_ids(self) -> set[str]:
        """Every job id in the store."""
        with self.jobs.transaction() as db:
            return {str(row["job_id"]) for row in db.query("SELECT job_id FROM jobs")}

    def active_runs(self) -> dict[str, str]:
        """``{job_id: run_id}`` of the jobs whose results must be kept."""
        with self.jobs.transaction() as db:
            rows = db.query(
                "SELECT job_id, run_id FROM jobs WHERE mode = 'batch' AND run_id IS NOT NULL "
                "AND status IN ('running', 'finished')"
            )
        return {str(row["job_id"]): str(row["run_id"]) for row in rows}


def _update_run(
    db: Transaction, job_id: str, run_id: str, changes: str, params: Params,
    stamp: str | None = None,
) -> bool:
    """Apply ``changes`` (SET clauses) while ``run_id`` is still the job's running run.

    The one guard of the module docstring's rule; ``updated`` is set to ``stamp`` (now).
    False when the run no longer owns the job.
    """
    changed = db.run(
        f"UPDATE jobs SET {changes}, updated = ? "
        "WHERE job_id = ? AND run_id = ? AND status = 'running'",
        (*params, stamp or now(), job_id, run_id),
    )
    return changed == 1


def _row(db: Transaction, job_id: str, user_id: str | None) -> Row:
    """The job's row (of ``user_id`` unless None), else ResourceNotFound."""
    row = db.one("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
    if row is None or (user_id is not None and row["user_id"] != user_id):
        raise ResourceNotFound(f"Job {job_id!r} does not exist")
    return row
