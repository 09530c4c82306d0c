"""The shared store: PostgreSQL through psycopg 3 and a connection pool.

Every server of a deployment points at the same database. Connections are checked
when taken from the pool, so a database restart costs the requests made while it is
down (they fail with :class:`~ondemand.errors.StoreUnavailable`, a 503 with
Retry-After) and nothing after: the pool reconnects on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..errors import StoreUnavailable
from .base import Params, Row
from .migrations import migrate

log = logging.getLogger("ondemand.store")

def _sql(sql: str) -> str:
    """The portable ``?`` placeholders as psycopg's ``%s``."""
    return sql.replace("?", "%s")


class PostgresTransaction:
    """A transaction on one pooled connection."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a SELECT."""
        return self.conn.execute(_sql(sql), tuple(params)).fetchall()

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a SELECT."""
        return self.conn.execute(_sql(sql), tuple(params)).fetchone()

    def run(self, sql: str, params: Params = ()) -> int:
        """Run a statement; rows changed."""
        return self.conn.execute(_sql(sql), tuple(params)).rowcount

    def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run a statement per parameter row."""
        with self.conn.cursor() as cursor:
            cursor.executemany(_sql(sql), [tuple(r) for r in rows])

    def lock(self, name: str) -> None:
        """A transaction-scoped advisory lock on ``name`` (released at commit)."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))

    def clock(self) -> float:
        """The database server's clock: leases mean the same on every server."""
        row = self.conn.execute(
            "SELECT extract(epoch FROM clock_timestamp())::float8 AS now"
        ).fetchone()
        assert row is not None
        return float(row["now"])

    def add_column(self, table: str, column: str, kind: str) -> None:
        """``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``."""
        self.conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")


class PostgresDatabase:
    """Jobs, services, tokens and the batch queue in a PostgreSQL database."""

    shared = True
    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 10, wait_seconds: float = 5.0) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, pool_size),
            timeout=wait_seconds,
            check=ConnectionPool.check_connection,
            kwargs=_connection_options(wait_seconds),
            connection_class=psycopg.Connection[Row],
            name="ondemand-store",
            open=False,
        )
        try:
            self.pool.open(wait=True, timeout=30.0)
        except Exception as exc:
            self.pool.close()
            raise StoreUnavailable(
                f"Cannot connect to the PostgreSQL store at {_redacted(url)} "
                f"({type(exc).__name__}: {exc}); check that it runs and accepts connections"
            ) from exc
        with self.transaction() as tx:
            tx.lock("ondemand-migrations")
            applied = migrate(tx, self.dialect)
        if applied:
            log.info("store schema migrated to version %s", applied[-1])

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        """A transaction on a pooled connection; connection failures become 503s."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield PostgresTransaction(conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreUnavailable(
                "The job store (PostgreSQL) is unavailable right now; retry shortly"
            ) from exc

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()


def _connection_options(wait_seconds: float) -> dict[str, Any]:
    """Per-connection options: dict rows, a bounded connect time, TCP keepalives."""
    return {
        "row_factory": dict_row,
        "connect_timeout": max(2, round(wait_seconds)),
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "application_name": "ondemand",
    }


def _redacted(url: str) -> str:
    """The URL without its password."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
