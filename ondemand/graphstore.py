"""User-defined process graphs, stored per user beside the jobs (the same database).

One store serves both APIs: the draft's ``/process_graphs`` (ids chosen by the server)
and openEO 1.2's (ids chosen by the user, ``PUT /process_graphs/{id}``). Ids are per
user: two users may both keep a graph called ``ndvi``.
"""

from __future__ import annotations

import builtins
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
        return [graph_id for graph_id, _ in self.items(user_id)]

    def items(self, user_id: str) -> builtins.list[tuple[str, Any]]:
        """A user's graphs as (id, graph), oldest first."""
        with self.jobs.transaction() as db:
            rows = db.query(
                "SELECT process_graph_id, process_graph FROM process_graphs WHERE user_id = ? "
                "ORDER BY created, process_graph_id",
                (user_id,),
            )
        return [(str(r["process_graph_id"]), json.loads(r["process_graph"])) for r in rows]

    def put(self, graph_id: str, user_id: str, graph: Any) -> bool:
        """Store a graph under an id the user chose, replacing theirs; True when new."""
        stamp = now()
        with self.jobs.transaction() as db:
            db.lock(f"process-graph:{user_id}:{graph_id}")  # two PUTs of one new id
            changed = db.run(
                "UPDATE process_graphs SET process_graph = ?, updated = ? "
                "WHERE process_graph_id = ? AND user_id = ?",
                (json.dumps(graph), stamp, graph_id, user_id),
            )
            if not changed:
                db.run(
                    "INSERT INTO process_graphs (process_graph_id, user_id, process_graph, "
                    "created, updated) VALUES (?, ?, ?, ?, ?)",
                    (graph_id, user_id, json.dumps(graph), stamp, stamp),
                )
        return not changed

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
