"""The embedded store: one SQLite file (WAL) under the data dir.

Safe for several server processes on one machine: every transaction is ``BEGIN
IMMEDIATE``, so SQLite serializes writers while WAL lets readers go on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..healing import check_job_store, exclusive
from .base import Params, Row
from .migrations import migrate


class SQLiteTransaction:
    """A transaction on one SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a SELECT."""
        return [dict(r) for r in self.db.execute(sql, tuple(params)).fetchall()]

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a SELECT."""
        row = self.db.execute(sql, tuple(params)).fetchone()
        return None if row is None else dict(row)

    def run(self, sql: str, params: Params = ()) -> int:
        """Run a statement; rows changed."""
        return self.db.execute(sql, tuple(params)).rowcount

    def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run a statement per parameter row."""
        self.db.executemany(sql, [tuple(r) for r in rows])

    def lock(self, name: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already serializes every writer."""

    def clock(self) -> float:
        """This machine's clock (every user of the file runs on it)."""
        return time.time()

    def add_column(self, table: str, column: str, kind: str) -> None:
        """``ALTER TABLE ... ADD COLUMN`` unless present (files from older versions)."""
        present = {r["name"] for r in self.query(f"PRAGMA table_info({table})")}
        if column not in present:
            self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class SQLiteDatabase:
    """Jobs, services, tokens and the batch queue in one SQLite file."""

    shared = False
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # one process at a time checks, creates and migrates: another process starting
        # now must not see a half-created file and call it damaged
        with exclusive(path):
            check_job_store(path)
            db = sqlite3.connect(path, timeout=30.0)
            try:
                db.execute("PRAGMA busy_timeout=30000")
                db.execute("PRAGMA journal_mode=WAL")
            finally:
                db.close()
            with self.transaction() as tx:
                migrate(tx, self.dialect)

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTransaction]:
        """An immediate transaction (committed on success, rolled back on error)."""
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            db.execute("BEGIN IMMEDIATE")
            yield SQLiteTransaction(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def close(self) -> None:
        """Nothing held between transactions."""
