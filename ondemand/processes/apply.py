"""apply (a child graph per pixel value) and apply_dimension (per pixel along t or bands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from .context import EvalContext, LabelledArray, as_cube
from .math import _finish, stack_of
from .params import CUBE_RETURNS, CUBE_SCHEMA, DATA
from .reduce import along, check_dimension
from .registry import Parameter, Process
from .types import ANY, ARRAY, NUMBER, PROCESS_GRAPH, RASTER_CUBE, Check, ValueType

CONTEXT = Parameter("context", "Data passed to the child graph.",
                    {"description": "Any data type."}, required=False)


def _child_schema(name: str, text: str, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"type": "object", "subtype": PROCESS_GRAPH, "parameters": [
        {"name": name, "description": text, "schema": schema},
        {"name": "context", "description": "The `context` argument.",
         "schema": {"description": "Any data type."}},
    ]}


# --------------------------------------------------------------------------- apply


def _apply_check(c: Check) -> ValueType:
    cube = c.cube()
    result = c.child_graph("process", {"x": ValueType(NUMBER)})
    if result.kind not in (NUMBER, "integer", "boolean", "null", ANY, RASTER_CUBE):
        raise c.invalid("process", f"must compute one value per pixel, not {result.describe()}")
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=cube.bands)


def _apply(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube = as_cube(args["data"], ctx)
    out = args["process"](x=cube, context=args["context"])
    if isinstance(out, Cube):
        if out.data.shape != cube.data.shape:
            raise ArgumentInvalid(f"apply: the process changed the cube's shape to "
                                  f"{out.data.shape}")
        return out.with_data(out.data, bands=cube.bands)
    return cube.with_data(_filled(out, cube.data.shape, "apply"))


def _filled(value: Any, shape: tuple[int, ...], where: str) -> np.ma.MaskedArray:
    """A child graph's constant or array result as a masked array of ``shape``."""
    if value is None:
        return np.ma.MaskedArray(np.zeros(shape, np.float32), mask=np.ones(shape, bool))
    if isinstance(value, bool | int | float):
        return _finish(np.full(shape, float(value)), np.zeros(shape, bool))
    if isinstance(value, np.ndarray):
        data = np.broadcast_to(np.ma.getdata(value), shape)
        mask = np.broadcast_to(np.ma.getmaskarray(value), shape)
        if data.dtype.kind in "iub":
            return np.ma.MaskedArray(data.copy(), mask=mask.copy())
        return _finish(data, mask)
    raise ArgumentInvalid(f"{where}: the process must compute numbers, got {type(value).__name__}")


APPLY = Process(
    id="apply",
    summary="Apply a process to each value",
    description="Runs the child graph `process` on every value of the cube (parameter `x`, "
                "plus `context`), e.g. `linear_scale_range`, `sqrt` or `clip`; dimensions and "
                "labels stay as they are.",
    parameters=(DATA,
                Parameter("process", "A child process graph computing one value from `x`.",
                          _child_schema("x", "A value of the cube.",
                                        {"type": ["number", "null"]})),
                CONTEXT),
    returns=CUBE_RETURNS,
    implementation=_apply,
    check=_apply_check,
    categories=("cubes",),
)


# --------------------------------------------------------------------------- apply_dimension


def _apply_dimension_check(c: Check) -> ValueType:
    cube, dim = check_dimension(c)
    target = c.literal("target_dimension")
    if target not in (None, dim) and not (dim == "t" and target == "bands"):
        raise c.invalid("target_dimension", "expected null, the dimension itself, or 'bands' "
                        "when applying over t")
    c.child_graph("process", {"data": along(cube, dim)})
    if target == "bands":
        return ValueType(RASTER_CUBE, has_time=False, bands=None)
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=None)


def _values_along(value: Any, count: int, shape: tuple[int, ...]) -> np.ma.MaskedArray:
    """The child's result as ``(k, *shape)``: an array along the dimension or one value."""
    if isinstance(value, LabelledArray):
        value = value.values()
    if isinstance(value, list):
        value = np.ma.stack([_filled(v, shape, "apply_dimension") for v in value])
    if isinstance(value, np.ndarray) and value.ndim == len(shape) + 1:
        return _filled(value, value.shape, "apply_dimension")
    return _filled(value, shape, "apply_dimension")[None]


def _apply_dimension(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube = as_cube(args["data"], ctx)
    dim, target = args["dimension"], args["target_dimension"]
    if dim == "t":
        if cube.times is None:
            raise ArgumentInvalid("apply_dimension: the cube has no time dimension")
        stack = LabelledArray(cube.data, tuple(t.isoformat() for t in cube.times))
        out = _values_along(args["process"](data=stack, context=args["context"]),
                            len(cube.times), cube.data.shape[1:])
        if target == "bands":
            return _times_to_bands(cube, out)
        if out.shape[0] == len(cube.times):
            return cube.with_data(out)
        if out.shape[0] == 1:
            return cube.with_data(out, times=cube.times[:1])
        raise ArgumentInvalid(
            f"apply_dimension: the process gives {out.shape[0]} values for {len(cube.times)} "
            "dates; give target_dimension 'bands' to keep them as bands"
        )
    swapped = np.ma.swapaxes(cube.data, 0, 1)
    shape = (swapped.shape[1], *swapped.shape[2:])
    out = _values_along(args["process"](data=LabelledArray(swapped, cube.bands),
                                        context=args["context"]), len(cube.bands), shape)
    labels = cube.bands if out.shape[0] == len(cube.bands) else tuple(
        str(i) for i in range(out.shape[0]))
    return cube.with_data(np.ma.swapaxes(out, 0, 1), bands=labels)


def _times_to_bands(cube: Cube, out: np.ma.MaskedArray) -> Cube:
    """Values computed along t become bands ``0 .. k-1`` (one band each) of a cube without t."""
    if len(cube.bands) != 1:
        raise ArgumentInvalid(
            f"apply_dimension: target_dimension 'bands' needs a one-band cube, got "
            f"{len(cube.bands)} bands ({', '.join(cube.bands)}); filter_bands first"
        )
    data = np.ma.swapaxes(out, 0, 1)  # (1, k, y, x)
    return cube.with_data(data, times=None, bands=tuple(str(i) for i in range(out.shape[0])))


APPLY_DIMENSION = Process(
    id="apply_dimension",
    summary="Apply a process to all values along a dimension",
    description="Runs the child graph `process` on each pixel's values along `dimension` "
                "(`t` or `bands`; parameters `data` and `context`). A result as long as the "
                "dimension keeps its labels; another length gets labels 0, 1, ...; one value "
                "per pixel (a reducer such as `mean`) keeps one step (over t, labelled with "
                "the first date). With `target_dimension: \"bands\"` values computed over t "
                "of a one-band cube become bands `0`, `1`, ... of a cube without time (e.g. "
                "`quantiles`).",
    parameters=(
        DATA,
        Parameter("process", "A child process graph computing values from an array.",
                  _child_schema("data", "The values along the dimension.",
                                {"type": "array", "subtype": "labeled-array"})),
        Parameter("dimension", "The dimension: t or bands.", {"type": "string"}),
        Parameter("target_dimension", "Where the values go: null (the same dimension) or "
                  "'bands'.", {"type": ["string", "null"]}, required=False),
        CONTEXT,
    ),
    returns={"description": "A raster data cube.", "schema": CUBE_SCHEMA},
    implementation=_apply_dimension,
    check=_apply_dimension_check,
    categories=("cubes",),
)

# --------------------------------------------------------------------------- array_apply


def _array_apply_check(c: Check) -> ValueType:
    t = c.type_of("data")
    if t.kind not in (ARRAY, ANY):
        raise c.invalid("data", f"expected an array, got {t.describe()}")
    c.child_graph("process", {"x": ValueType(NUMBER)})
    return ValueType(ARRAY, dimension=t.dimension)


def _array_apply(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    values = stack_of(args["data"], "array_apply")
    out = args["process"](x=values, context=args["context"])
    if isinstance(args["data"], LabelledArray):
        return LabelledArray(_filled(out, values.shape, "array_apply"), args["data"].labels)
    return _filled(out, values.shape, "array_apply")


ARRAY_APPLY = Process(
    id="array_apply",
    summary="Apply a process to each array element",
    description="Runs the child graph `process` on every element of the array (parameter "
                "`x`, plus `context`); the array keeps its length and labels, e.g. inside "
                "`apply_dimension` over t.",
    parameters=(
        Parameter("data", "An array.", {"type": "array"}),
        Parameter("process", "A child process graph computing one value from `x`.",
                  _child_schema("x", "An element.", {"description": "Any data type."})),
        CONTEXT,
    ),
    returns={"description": "The array of results.", "schema": {"type": "array"}},
    implementation=_array_apply,
    check=_array_apply_check,
    categories=("arrays",),
)

PROCESSES = (APPLY, APPLY_DIMENSION, ARRAY_APPLY)
