"""Job log entries, kept in the jobs' database: what a job's batch runs did, in order.

Entries are written in the transaction of the change they describe (queued, started,
finished, failed, canceled) or, for chunk progress, in batches by the run. Their ids
increase, so ``offset`` (the last id a client has) pages through them as openEO 1.2's
``GET /jobs/{id}/logs`` defines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .store import Transaction

__all__ = ["LEVELS", "LogEntry", "LogPage", "add_entries", "read_entries"]

LEVELS = ("debug", "info", "warning", "error")
"""Log levels from the least to the most severe."""


@dataclass(frozen=True)
class LogEntry:
    """One log entry to write."""

    level: str
    message: str
    time: str
    code: str | None = None
    data: Any = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown log level {self.level!r}")


@dataclass(frozen=True)
class LogPage:
    """Entries of one request, and whether more follow."""

    entries: list[dict[str, Any]]
    more: bool


def add_entries(tx: Transaction, job_id: str, entries: Iterable[LogEntry]) -> None:
    """Append entries to a job's log in ``tx``."""
    tx.run_many(
        "INSERT INTO job_logs (job_id, level, message, code, data, time) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(job_id, e.level, e.message, e.code,
          None if e.data is None else json.dumps(e.data), e.time) for e in entries],
    )


def read_entries(tx: Transaction, job_id: str, after: int | None, level: str,
                 limit: int | None) -> LogPage:
    """Entries of ``level`` or more severe after id ``after``, oldest first, at most ``limit``."""
    levels = LEVELS[LEVELS.index(level):]
    marks = ", ".join("?" for _ in levels)
    sql = (
        f"SELECT entry_id, level, message, code, data, time FROM job_logs WHERE job_id = ? "
        f"AND entry_id > ? AND level IN ({marks}) ORDER BY entry_id"
    )
    params: list[Any] = [job_id, -1 if after is None else after, *levels]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit + 1)
    rows = tx.query(sql, params)
    more = limit is not None and len(rows) > limit
    return LogPage([_entry(r) for r in rows[:limit]], more)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    """An entry in openEO 1.2's shape."""
    entry: dict[str, Any] = {
        "id": str(row["entry_id"]),
        "level": row["level"],
        "message": row["message"],
        "time": row["time"],
    }
    if row["code"] is not None:
        entry["code"] = row["code"]
    if row["data"] is not None:
        entry["data"] = json.loads(row["data"])
    return entry
