"""Compiled layers of published jobs, built once per job version and kept in memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ondemand.engine import Engine
from ondemand.jobgraphs import RecordingGraphs, UserGraphs, compile_job, stored_graphs_changed
from ondemand.jobs import JobRecord
from ondemand.layer import Layer, make_layer

RECHECK_SECONDS = 1.0
"""How often a layer built from the owner's stored graphs checks them for changes."""


@dataclass
class _Entry:
    layer: Layer
    seen: dict[tuple[str, str], Any]
    """The stored graphs (user processes, ``process_graph`` references) it was built from."""
    checked: float


class LayerCache:
    """An LRU of layers keyed by job id and its ``updated`` stamp (a PATCH recompiles).

    A layer whose graph uses the owner's stored graphs is also rebuilt when one of them
    changes (checked at most every ``recheck`` seconds, in the shared store, so every
    server follows a ``PUT`` of a user process within that time).
    """

    def __init__(
        self, graphs: UserGraphs | None = None, size: int = 256,
        recheck: float = RECHECK_SECONDS,
    ) -> None:
        """``graphs``: the users' stored graphs that jobs' graphs may reference."""
        self._graphs = graphs
        self._size = size
        self._recheck = recheck
        self._layers: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, job: JobRecord) -> Layer:
        """The layer of ``job``: compiled and planned on first use only."""
        key = (job.job_id, job.updated)
        with self._lock:
            entry = self._layers.get(key)
            if entry is not None:
                self._layers.move_to_end(key)
        if entry is not None and self._current(entry):
            return entry.layer
        recording = RecordingGraphs(self._graphs) if self._graphs is not None else None
        compiled = compile_job(engine, job, recording)
        layer = make_layer(job.job_id, job.title or f"Job {job.job_id}", compiled)
        seen = recording.seen if recording is not None else {}
        with self._lock:
            self._layers[key] = _Entry(layer, seen, time.monotonic())
            self._layers.move_to_end(key)
            while len(self._layers) > self._size:
                self._layers.popitem(last=False)
        return layer

    def _current(self, entry: _Entry) -> bool:
        """False when a stored graph the layer was built from has changed since."""
        if not entry.seen or self._graphs is None:
            return True
        if time.monotonic() - entry.checked < self._recheck:
            return True
        if stored_graphs_changed(self._graphs, entry.seen):
            return False
        entry.checked = time.monotonic()
        return True
