"""Reductions: the draft's ``*_time`` processes and openEO's ``reduce_dimension``.

A reduction over ``t`` returns a cube without time (``times=None``); over ``bands``
a one-band cube. Masked pixels are ignored; a pixel masked at every step stays
masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from ..graph import Graph, ParamRef
from .context import CollectionView, EvalContext, LabelledArray, as_cube
from .math import REDUCERS, _finish
from .params import CUBE_RETURNS, DATA, DATA_LEGACY
from .registry import Parameter, Process
from .types import ANY, ARRAY, INTEGER, NUMBER, PROCESS_GRAPH, RASTER_CUBE, Check, ValueType
from .walk import leaves

DIMENSIONS = ("t", "bands")


# --------------------------------------------------------------------------- *_time


def _time_process(name: str) -> Process:
    fn = REDUCERS[name]

    def run(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
        cube = as_cube(args["data"], ctx)
        return cube.with_data(fn(cube.data, True)[None], times=None)

    def check(c: Check) -> ValueType:
        cube = c.timed_cube()
        return ValueType(RASTER_CUBE, has_time=False, bands=cube.bands)

    what = {"count": "counts the valid observations of", "sd": "the sample standard deviation of",
            "first": "the first valid observation of", "last": "the last valid observation of",
            }.get(name, f"the {name} value of")
    return Process(
        id=f"{name}_time",
        summary=f"Reduce time: {name}",
        description=(
            f"For every pixel and band, {what} the time series; no-data observations "
            "are ignored, and a pixel without any valid observation is no-data"
            + (" (count gives 0, as int32)." if name == "count" else ".")
            + " The result has no time dimension."
            + (" Evaluated on the whole time series at once." if name == "median" else
               " Evaluated a few dates at a time (memory does not grow with the number of "
               "dates) when its input works date by date.")
        ),
        parameters=(DATA,),
        returns=CUBE_RETURNS,
        implementation=run,
        check=check,
        legacy=DATA_LEGACY,
        categories=("cubes", "reducer"),
    )


TIME_PROCESSES = tuple(
    _time_process(n) for n in ("min", "max", "mean", "median", "sum", "count", "first", "last",
                               "sd")
)


# --------------------------------------------------------------------------- reduce_dimension


def picked_elements(graph: Graph, param: str = "data") -> list[tuple[str, Any]] | None:
    """How a child graph reads parameter ``param``: the ``array_element`` picks, or ``None``.

    Returns ``[("index", 0), ("label", "B08"), ...]`` when the parameter is only
    passed to ``array_element`` with a literal index or label; ``None`` when it is
    used whole (so every element must be read).
    """
    picks: list[tuple[str, Any]] = []
    for node in graph.nodes.values():
        for name, value in node.arguments.items():
            if not _uses(value, param):
                continue
            if node.process_id != "array_element" or name != "data" or value != ParamRef(param):
                return None
            if node.arguments.get("index") is not None:
                picks.append(("index", node.arguments["index"]))
            else:
                picks.append(("label", node.arguments.get("label")))
    return picks


def _uses(value: Any, param: str) -> bool:
    return any(v == ParamRef(param) for v in leaves(value))


def check_dimension(c: Check) -> tuple[ValueType, str]:
    """The ``data`` cube and the literal ``dimension`` (t or bands) it must have."""
    cube = c.cube()
    dim = c.literal("dimension")
    if dim not in DIMENSIONS:
        raise c.invalid("dimension", f"expected one of {', '.join(DIMENSIONS)}, got {dim!r}")
    if dim == "t" and not cube.has_time:
        raise c.invalid("dimension", "the cube has no time dimension (it was already reduced)")
    return cube, dim


def along(cube: ValueType, dim: str) -> ValueType:
    """The type of the labelled arrays a child graph gets along ``dim`` of ``cube``."""
    return ValueType(ARRAY, bands=cube.bands if dim == "bands" else None,
                     collection=cube.collection if dim == "bands" else None, dimension=dim)


def _reduce_check(c: Check) -> ValueType:
    cube, dim = check_dimension(c)
    result = c.child_graph("reducer", {"data": along(cube, dim)})
    if result.kind not in (NUMBER, INTEGER, "boolean", "null", ANY):
        raise c.invalid("reducer", f"must compute one value per pixel, not {result.describe()}")
    if dim == "t":
        return ValueType(RASTER_CUBE, has_time=False, bands=cube.bands)
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=None)


def _reduce(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    data, reducer, dim = args["data"], args["reducer"], args["dimension"]
    if dim == "t":
        cube = as_cube(data, ctx)
        if cube.times is None:
            raise ArgumentInvalid("reduce_dimension: the cube has no time dimension")
        stack = LabelledArray(cube.data, tuple(t.isoformat() for t in cube.times))
        out = _field(reducer(data=stack, context=args["context"]), cube.data.shape[1:])
        return cube.with_data(out[None], times=None)
    if dim != "bands":
        raise ArgumentInvalid(f"reduce_dimension: unknown dimension {dim!r}")
    cube, stack = _band_stack(data, reducer.graph, ctx)
    shape = (cube.data.shape[0], *cube.data.shape[2:])
    out = _field(reducer(data=stack, context=args["context"]), shape)
    name = reducer.graph.nodes[reducer.graph.result].process_id
    return cube.with_data(out[:, None], bands=(name,))


def _band_stack(data: Any, child: Graph, ctx: EvalContext) -> tuple[Cube, LabelledArray]:
    """Read the bands the reducer picks (all if it uses the whole array)."""
    picks = picked_elements(child)
    if not isinstance(data, CollectionView):
        cube = as_cube(data, ctx)
        return cube, LabelledArray(np.ma.swapaxes(cube.data, 0, 1), cube.bands)
    labels = data.band_names
    aliases = {str(v): labels.index(data.band(v)) for kind, v in _label_picks(child)}
    if picks is None:
        cube = as_cube(data, ctx)
        return cube, LabelledArray(np.ma.swapaxes(cube.data, 0, 1), labels, aliases=aliases)
    positions: dict[int, None] = {}
    for kind, value in picks:
        pos = aliases[str(value)] if kind == "label" else value
        if not isinstance(pos, int) or not 0 <= pos < len(labels):
            raise ArgumentInvalid(
                f"array_element: index {value!r} is out of range ({len(labels)} bands)"
            )
        positions[pos] = None
    cube = as_cube(data, ctx, [labels[p] for p in positions])
    rows = {p: i for i, p in enumerate(positions)}
    return cube, LabelledArray(np.ma.swapaxes(cube.data, 0, 1), labels, rows, aliases)


def _label_picks(graph: Graph, param: str = "data") -> list[tuple[str, Any]]:
    """The literal labels ``array_element`` reads from ``param``."""
    return [
        ("label", node.arguments["label"])
        for node in graph.nodes.values()
        if node.process_id == "array_element"
        and node.arguments.get("data") == ParamRef(param)
        and node.arguments.get("label") is not None
    ]


def _field(value: Any, shape: tuple[int, ...]) -> np.ma.MaskedArray:
    """A reducer's result as a masked array of ``shape`` (numbers and nulls broadcast)."""
    if value is None:
        return np.ma.MaskedArray(np.zeros(shape, np.float32), mask=np.ones(shape, bool))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _finish(np.full(shape, float(value)), np.zeros(shape, bool))
    if isinstance(value, np.ndarray) and value.shape == shape:
        if value.dtype.kind in "iub":
            return np.ma.MaskedArray(np.ma.getdata(value), mask=np.ma.getmaskarray(value))
        return _finish(np.ma.getdata(value), np.ma.getmaskarray(value))
    raise ArgumentInvalid(
        f"reduce_dimension: the reducer must give one value per pixel, got {type(value).__name__}"
        + (f" of shape {value.shape}" if isinstance(value, np.ndarray) else "")
    )


REDUCE_DIMENSION = Process(
    id="reduce_dimension",
    summary="Reduce dimensions",
    description=(
        "Applies the child graph `reducer` to every pixel's values along `dimension` "
        "(`t` or `bands`) and drops that dimension. The reducer gets the parameter `data` "
        "(the values, e.g. for `mean` or `array_element`) and `context`. Reducing `t` "
        "gives a cube without time; reducing `bands` gives one band named after the "
        "reducer's result process. A reducer that only picks bands with `array_element` "
        "reads only those bands. Over `t` with one of `min`, `max`, `mean`, `sum`, `count`, "
        "`first`, `last` or `sd` as the reducer, dates are evaluated a few at a time."
    ),
    parameters=(
        DATA,
        Parameter("reducer", "A child process graph reducing an array to one value.",
                  {"type": "object", "subtype": PROCESS_GRAPH,
                   "parameters": [
                       {"name": "data", "description": "The values to reduce.",
                        "schema": {"type": "array", "subtype": "labeled-array"}},
                       {"name": "context", "description": "The `context` argument.",
                        "schema": {"description": "Any data type."}},
                   ]}),
        Parameter("dimension", "The dimension to reduce: t or bands.",
                  {"type": "string", "enum": list(DIMENSIONS)}),
        Parameter("context", "Data passed to the reducer.", {}, required=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_reduce,
    check=_reduce_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "reducer"),
)

PROCESSES = (*TIME_PROCESSES, REDUCE_DIMENSION)
