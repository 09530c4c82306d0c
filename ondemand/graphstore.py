"""User-defined process graphs, stored per user beside the jobs (the same database)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from .errors import ResourceNotFound
from .jobs import JobStore, now


class ProcessGraphStore:
    """Each user's stored graphs; another user's graph is not found, as with jobs."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs

    def create(self, user_id: str, graph: Any) -> str:
        """Store a graph; its new id."""
        graph_id = secrets.token_hex(8)
        stamp = now()
        with self.jobs.transaction() as db:
            db.run(
                "INSERT INTO process_graphs (process_graph_id, user_id, process_graph, "
                "created, updated) VALUES (?, ?, ?, ?, ?)",
                (graph_id, user_id, json.dumps(graph), stamp, stamp),
            )
        return graph_id

    def get(self, graph_id: str, user_id: str) -> Any:
        """The stored graph of ``user_id``; ResourceNotFound otherwise."""
        with self.jobs.transaction() as db:
            row = db.one(
                "SELECT process_graph FROM process_graphs WHERE process_graph_id = ? "
                "AND user_id = ?",
                (graph_id, user_id),
            )
        if row is None:
            raise ResourceNotFound(f"Process graph {graph_id!r} does not exist")
        return json.loads(row["process_graph"])

    def list(self, user_id: str) -> list[str]:
        """The ids of a user's graphs, oldest first."""
        with self.jobs.transaction() as db:
            rows = db.query(
                "SELECT process_graph_id FROM process_graphs WHERE user_id = ? "
                "ORDER BY created, process_graph_id",
                (user_id,),
            )
        return [str(r["process_graph_id"]) for r in rows]

    def replace(self, graph_id: str, user_id: str, graph: Any) -> None:
        """Replace a stored graph, keeping its id."""
        with self.jobs.transaction() as db:
            changed = db.run(
                "UPDATE process_graphs SET process_graph = ?, updated = ? "
                "WHERE process_graph_id = ? AND user_id = ?",
                (json.dumps(graph), now(), graph_id, user_id),
            )
        if not changed:
            raise ResourceNotFound(f"Process graph {graph_id!r} does not exist")

    def delete(self, graph_id: str, user_id: str) -> None:
        """Delete a stored graph."""
        with self.jobs.transaction() as db:
            changed = db.run(
                "DELETE FROM process_graphs WHERE process_graph_id = ? AND user_id = ?",
                (graph_id, user_id),
            )
        if not changed:
            raise ResourceNotFound(f"Process graph {graph_id!r} does not exist")
