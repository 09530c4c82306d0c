"""The storage interface: a database of jobs, services, tokens and the batch queue.

The stores (:class:`~ondemand.jobs.JobStore`, :class:`~ondemand.batch.store.BatchStore`,
:class:`~ondemand.tokens.TokenStore`) are written once against :class:`Database`; SQLite
(:mod:`.sqlite`, the embedded default) and PostgreSQL (:mod:`.postgres`, shared by
several machines) implement it. SQL is written with ``?`` placeholders and the subset
both databases run with the same meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]
Params = Sequence[Any]


class Transaction(Protocol):
    """One open transaction: statements run in it commit together or not at all."""

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a SELECT, as dicts by column name."""

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a SELECT, None when there is none."""

    def run(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the number of rows it changed."""

    def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run a statement once per parameter row."""

    def lock(self, name: str) -> None:
        """Serialize with every other transaction taking the same lock, until commit."""

    def clock(self) -> float:
        """The database's current time in epoch seconds (one clock for every server)."""

    def add_column(self, table: str, column: str, kind: str) -> None:
        """Add a column unless the table has it already (for migrations)."""


class Database(Protocol):
    """Where the stores keep their rows."""

    shared: bool
    """True when servers on other machines use the same database (PostgreSQL)."""
    dialect: str
    """``sqlite`` or ``postgresql``: which SQL types migrations use."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A transaction, committed when the block ends, rolled back on an exception."""

    def close(self) -> None:
        """Release connections."""

