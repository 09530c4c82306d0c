"""Batch runs of graphs whose result is a table (zonal statistics time series).

Zonal statistics read only the pixels under the polygons, one window per polygon
group and item, so the run evaluates on the server like ``/jobs/execute`` — without
its synchronous limits — and stores the encoded table as the run's result file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..engine import CACHED, Engine
from ..errors import OutputOptionInvalid
from ..evaluate import CompiledGraph
from ..formats import OutputSpec, parse_output
from ..formats.options import TABLE_FORMATS
from ..formats.tables import encode_table
from ..jobs import JobRecord
from ..userfiles import FileRoot
from .results import ResultFile

DEFAULT_TABLE_OUTPUT = {"format": "GPKG"}


def table_spec(output: Mapping[str, Any] | None) -> OutputSpec:
    """The output options of a table result: GPKG unless a table format is asked for."""
    spec = parse_output(output if output is not None else DEFAULT_TABLE_OUTPUT)
    if spec.format not in TABLE_FORMATS:
        raise OutputOptionInvalid(
            f"The job's result is a table; format {spec.format} holds rasters. Use one of "
            f"{', '.join(TABLE_FORMATS)} (GPKG by default)"
        )
    return spec


def run_table(
    job: JobRecord,
    compiled: CompiledGraph,
    output: Mapping[str, Any] | None,
    directory: Path,
    engine: Engine,
    files_root: FileRoot,
) -> ResultFile:
    """Evaluate the table, encode it, and write it atomically into ``directory``."""
    spec = table_spec(output)
    # regions are read, never written, from the owner's files: no size limits apply
    files = files_root.of(job.user_id, max_file_bytes=sys.maxsize, quota_bytes=sys.maxsize)
    table = engine.evaluate_table(compiled, policy=CACHED, user_files=files)
    encoded = encode_table(table, spec)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"result{Path(encoded.filename).suffix}"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(encoded.content)
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ResultFile(
        name, encoded.media_type, len(encoded.content), f"Result ({spec.format} table)", ("data",)
    )
