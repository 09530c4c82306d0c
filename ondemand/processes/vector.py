"""aggregate_spatial: a reducer over the pixels of each polygon -> a vector cube (a table).

It runs the zonal statistics engine (the one of ``zonal_statistics``): collection
data is read on each item's own grid, pixel centres decide membership, no-data never
counts. The table has one row per polygon and date: ``source``, ``feature``, the
features' properties, ``date`` and one column per band, named after the band.
``save_result`` writes it as GeoJSON, CSV, GPKG or JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ArgumentInvalid
from ..graph import Graph, ParamRef
from ..table import Table
from .context import EvalContext
from .params import DATA
from .registry import Parameter, Process
from .spatial import check_polygons, polygons, polygons_parameter
from .types import ARRAY, PROCESS_GRAPH, TABLE, VECTOR_CUBE, Check, ValueType
from .zonal.stats import zonal_statistics

REDUCERS: Mapping[str, str] = {"mean": "mean", "min": "min", "max": "max", "median": "median",
                               "sum": "sum", "count": "count", "sd": "std", "variance": "std"}
"""openEO reducer -> the zonal engine's statistic (sd and variance are corrected to n - 1)."""


def reducer_name(graph: Graph) -> str:
    """The reducer a child graph is: one node calling a supported reducer on ``data``."""
    node = graph.nodes[graph.result]
    ok = (len(graph.nodes) == 1 and node.process_id in REDUCERS
          and node.arguments.get("data") == ParamRef("data")
          and node.arguments.get("ignore_nodata", True) is True
          and node.arguments.get("condition") is None)
    if not ok:
        raise ArgumentInvalid(
            "argument 'reducer': aggregate_spatial takes one reducer of the polygon's values: "
            f"{', '.join(REDUCERS)} (e.g. {{\"process_id\": \"mean\", \"arguments\": "
            "{\"data\": {\"from_parameter\": \"data\"}}})"
        )
    return node.process_id


def _check(c: Check) -> ValueType:
    c.cube()
    check_polygons(c, "geometries")
    c.child_graph("reducer", {"data": ValueType(ARRAY, dimension="geometry")})
    try:
        reducer_name(c.graphs["reducer"])
    except ArgumentInvalid as exc:
        raise ArgumentInvalid(f"{c.where}: {exc.message}") from None
    target = c.literal("target_dimension")
    if not isinstance(target, str) or not target:
        raise c.invalid("target_dimension", f"expected a name, got {target!r}")
    return ValueType(TABLE)


def _sample(table: Table, counts: Table, name: str, value: str, reducer: str) -> list[Any]:
    """Population std -> sample sd (or variance) with each row's pixel count."""
    out: list[Any] = []
    for std, n in zip(table.columns[value], counts.columns[name], strict=True):
        if std is None or n is None or n < 2:
            out.append(None)
            continue
        sd = std * math.sqrt(n / (n - 1))
        out.append(sd * sd if reducer == "variance" else sd)
    return out


def _aggregate(args: Mapping[str, Any], ctx: EvalContext) -> Table:
    reducer = reducer_name(args["reducer"].graph)
    func = REDUCERS[reducer]
    _ = ctx.window  # planning stops here, before any file is read
    regions = polygons(args["geometries"], "aggregate_spatial geometries", ctx)
    table = zonal_statistics(args["data"], regions, func, False, ctx)
    counts = None
    if reducer in ("sd", "variance"):
        counts = zonal_statistics(args["data"], regions, "count", False, ctx)
    columns: dict[str, list[Any]] = {}
    for name, values in table.columns.items():
        band = name[: -len(func) - 1] if name.endswith(f"_{func}") else None
        if band is None or name in ("source", "feature", "date"):
            columns[name] = values
        elif counts is not None:
            columns[band] = _sample(table, counts, f"{band}_count", name, reducer)
        else:
            columns[band] = values
    return Table(columns, table.geometries, table.crs)


AGGREGATE_SPATIAL = Process(
    id="aggregate_spatial",
    summary="Zonal statistics for geometries",
    description="Reduces the pixels under each polygon (GeoJSON Polygon, MultiPolygon, "
                "Feature or FeatureCollection, or a path in your files) with `reducer`: "
                "one of mean, min, max, median, sum, count, sd, variance (sample sd and "
                "variance, n - 1). A pixel counts when its centre lies in the polygon and it "
                "has data. The result is a vector cube, one row per polygon and date with one "
                "column per band; save it with `save_result` as GeoJSON, CSV, GPKG or JSON. "
                "The same engine and pixel rule as `zonal_statistics`.",
    parameters=(
        DATA,
        polygons_parameter("geometries"),
        Parameter("reducer", "A child graph with one reducer such as mean.",
                  {"type": "object", "subtype": PROCESS_GRAPH, "parameters": [
                      {"name": "data", "description": "The values under one polygon.",
                       "schema": {"type": "array"}},
                      {"name": "context", "description": "The `context` argument.",
                       "schema": {"description": "Any data type."}}]}),
        Parameter("target_dimension", "Name of the result dimension.", {"type": "string"},
                  required=False, default="result"),
        Parameter("context", "Data passed to the reducer.", {"description": "Any data type."},
                  required=False),
    ),
    returns={"description": "A vector cube: one row per polygon and date.",
             "schema": {"type": "object", "subtype": VECTOR_CUBE}},
    implementation=_aggregate,
    check=_check,
    categories=("cubes", "aggregate & resample"),
)

PROCESSES = (AGGREGATE_SPATIAL,)
