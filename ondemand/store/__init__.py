"""Where jobs, services, tokens and the batch queue live: SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreConfigInvalid
from .base import Database, Transaction
from .postgres import PostgresDatabase
from .sqlite import SQLiteDatabase

__all__ = ["Database", "Transaction", "open_database", "sqlite_file"]


def sqlite_file(location: str | None, data_dir: Path) -> Path | None:
    """The SQLite file a store location names (None: not a SQLite store)."""
    if location is None or location == "":
        return data_dir / "jobs.sqlite"
    if location.startswith("sqlite:///"):
        return Path(location.removeprefix("sqlite://"))
    return None if "://" in location else Path(location)


def open_database(
    location: str | None, data_dir: Path, pool_size: int = 10, wait_seconds: float = 5.0
) -> Database:
    """The store at ``location``: a ``postgresql://`` URL, a ``sqlite:///`` path or a file
    path; None is ``data_dir/jobs.sqlite`` (the embedded default)."""
    if location is not None and location.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(location, pool_size, wait_seconds)
    path = sqlite_file(location, data_dir)
    if path is None:
        raise StoreConfigInvalid(
            f"Unknown store {location!r}: give postgresql://USER@HOST/DB or a SQLite file path"
        )
    return SQLiteDatabase(path)
