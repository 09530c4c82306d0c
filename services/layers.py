"""Compiled layers of published jobs, built once per job version and kept in memory."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ondemand.engine import Engine
from ondemand.jobgraphs import UserGraphs, compile_job
from ondemand.jobs import JobRecord
from ondemand.layer import Layer, make_layer


class LayerCache:
    """An LRU of layers keyed by job id and its ``updated`` stamp (a PATCH recompiles)."""

    def __init__(self, graphs: UserGraphs | None = None, size: int = 256) -> None:
        """``graphs``: the users' stored graphs that jobs' graphs may reference."""
        self._graphs = graphs
        self._size = size
        self._layers: OrderedDict[tuple[str, str], Layer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, job: JobRecord) -> Layer:
        """The layer of ``job``: compiled and planned on first use only."""
        key = (job.job_id, job.updated)
        with self._lock:
            layer = self._layers.get(key)
            if layer is not None:
                self._layers.move_to_end(key)
                return layer
        compiled = compile_job(engine, job, self._graphs)
        layer = make_layer(job.job_id, job.title or f"Job {job.job_id}", compiled)
        with self._lock:
            self._layers[key] = layer
            while len(self._layers) > self._size:
                self._layers.popitem(last=False)
        return layer
