"""Versioned schema migrations, applied in order at start-up by every server.

Each migration runs once per database, in the transaction that records its version
in ``schema_migrations``; servers starting at the same time serialize on a lock, so
exactly one applies each step. Append new steps; never edit a released one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .base import Transaction

_TYPES = {
    "sqlite": {"real": "REAL", "bigint": "INTEGER"},
    "postgresql": {"real": "DOUBLE PRECISION", "bigint": "BIGINT"},
}


def _jobs_and_services(tx: Transaction, dialect: str) -> None:
    """Version 1: jobs and the services publishing them."""
    tx.run(
        "CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
        "title TEXT, process_graph TEXT NOT NULL, output TEXT, "
        "mode TEXT NOT NULL DEFAULT 'none', status TEXT NOT NULL DEFAULT 'submitted', "
        "progress INTEGER NOT NULL DEFAULT 0, error TEXT, submitted TEXT NOT NULL, "
        "updated TEXT NOT NULL)"
    )
    tx.run("CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id)")
    tx.run(
        "CREATE TABLE IF NOT EXISTS services (service_id TEXT PRIMARY KEY, "
        "job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE, "
        "user_id TEXT NOT NULL, service_type TEXT NOT NULL, args TEXT NOT NULL, title TEXT, "
        "created TEXT NOT NULL, updated TEXT NOT NULL)"
    )
    tx.run("CREATE INDEX IF NOT EXISTS services_job ON services (job_id)")


def _batch(tx: Transaction, dialect: str) -> None:
    """Version 2: batch runs (queue columns on jobs) and their result files."""
    for column, kind in (
        ("batch_output", "TEXT"),
        ("run_id", "TEXT"),
        ("queued", "TEXT"),
        ("started", "TEXT"),
        ("finished", "TEXT"),
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
    ):
        tx.add_column("jobs", column, kind)
    tx.run(
        "CREATE TABLE IF NOT EXISTS results ("
        "job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE, "
        f"name TEXT NOT NULL, run_id TEXT NOT NULL, media_type TEXT NOT NULL, "
        f"size {_TYPES[dialect]['bigint']} NOT NULL, title TEXT, "
        "roles TEXT NOT NULL DEFAULT '[\"data\"]', created TEXT NOT NULL, "
        "PRIMARY KEY (job_id, name))"
    )
    tx.run("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status)")


def _tokens(tx: Transaction, dialect: str) -> None:
    """Version 3: bearer tokens (digests only)."""
    tx.run(
        "CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
        f"expires {_TYPES[dialect]['real']} NOT NULL)"
    )
    tx.run("CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id)")


def _leases(tx: Transaction, dialect: str) -> None:
    """Version 4: batch run leases (which server runs a job, until when)."""
    tx.add_column("jobs", "lease_owner", "TEXT")
    tx.add_column("jobs", "lease_expires", _TYPES[dialect]["real"])


def _process_graphs(tx: Transaction, dialect: str) -> None:
    """Version 5: users' stored process graphs."""
    tx.run(
        "CREATE TABLE IF NOT EXISTS process_graphs (process_graph_id TEXT PRIMARY KEY, "
        "user_id TEXT NOT NULL, process_graph TEXT NOT NULL, created TEXT NOT NULL, "
        "updated TEXT NOT NULL)"
    )
    tx.run("CREATE INDEX IF NOT EXISTS process_graphs_user ON process_graphs (user_id)")


def _signing_keys(tx: Transaction, dialect: str) -> None:
    """Version 6: keys signing short-lived URLs (one per purpose, shared by every server)."""
    tx.run("CREATE TABLE IF NOT EXISTS signing_keys (name TEXT PRIMARY KEY, secret TEXT NOT NULL)")


MIGRATIONS: tuple[Callable[[Transaction, str], None], ...] = (
    _jobs_and_services,
    _batch,
    _tokens,
    _leases,
    _process_graphs,
    _signing_keys,
)
"""Migration ``i`` brings the schema to version ``i + 1``."""


def migrate(tx: Transaction, dialect: str) -> list[int]:
    """Apply the migrations this database lacks (call with a lock held); their versions."""
    tx.run(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "applied TEXT NOT NULL)"
    )
    done = {int(r["version"]) for r in tx.query("SELECT version FROM schema_migrations")}
    applied = []
    for version, step in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        step(tx, dialect)
        tx.run(
            "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
            (version, _stamp(tx)),
        )
        applied.append(version)
    return applied


def schema_version(tx: Transaction) -> int:
    """The highest applied migration."""
    row = tx.one("SELECT MAX(version) AS v FROM schema_migrations")
    return int(row["v"]) if row and row["v"] is not None else 0


def _stamp(tx: Transaction) -> str:
    """An ISO timestamp of the database clock."""
    return datetime.fromtimestamp(tx.clock(), UTC).isoformat()
