"""Reducers of openEO 1.x beyond :mod:`.math`: variance, quantiles and count with a condition.

Like the reducers there, each reduces axis 0 of a labelled array (per pixel) or a
literal list; no-data is ignored unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentInvalid
from .context import EvalContext
from .math import _finish, _nodata_rule, _valid, scalar, stack_of
from .params import ARRAY_SCHEMA
from .registry import Parameter, Process
from .types import ANY, ARRAY, INTEGER, NUMBER, PROCESS_GRAPH, Check, ValueType

IGNORE_NODATA = Parameter("ignore_nodata", "Ignore no-data values (else any gives no-data).",
                          {"type": "boolean"}, required=False, default=True)
NUMBER_RETURNS: Mapping[str, Any] = {"description": "The value (null when undefined).",
                                     "schema": {"type": ["number", "null"]}}


def reduce_variance(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Sample variance (n - 1) of the valid values along axis 0; no-data below two values."""
    v, ok, n = _valid(data)
    with np.errstate(all="ignore"):
        mean = np.where(ok, v, 0.0).sum(axis=0) / n
        out = np.where(ok, (v - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
    return _finish(out, _nodata_rule(data, n < 2, ignore_nodata))


def _array_check(c: Check) -> None:
    t = c.type_of("data")
    if t.kind not in (ARRAY, ANY):
        raise c.invalid("data", f"expected an array (a reducer's data), got {t.describe()}")


def _variance_check(c: Check) -> ValueType:
    _array_check(c)
    if not isinstance(c.literal("ignore_nodata"), bool):
        raise c.invalid("ignore_nodata", "expected true or false")
    return ValueType(NUMBER)


def _variance(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    out = reduce_variance(stack_of(args["data"], "variance"), bool(args["ignore_nodata"]))
    return scalar(out) if out.ndim == 0 else out


VARIANCE = Process(
    id="variance",
    summary="Variance",
    description="The sample variance (divided by n - 1) of the values, per pixel; no-data "
                "with fewer than two valid values.",
    parameters=(Parameter("data", "An array of numbers.", ARRAY_SCHEMA), IGNORE_NODATA),
    returns=NUMBER_RETURNS,
    implementation=_variance,
    check=_variance_check,
    categories=("math > statistics", "reducer"),
)


# --------------------------------------------------------------------------- quantiles


def probabilities_of(probabilities: Any, q: Any, where: str) -> tuple[float, ...]:
    """The probabilities asked for: a list in [0, 1], or the q-quantiles' cut points."""
    if (probabilities is None) == (q is None):
        raise ArgumentInvalid(f"{where}: give exactly one of 'probabilities' and 'q'")
    if q is not None:
        if isinstance(q, bool) or not isinstance(q, int) or q < 2:
            raise ArgumentInvalid(f"{where}: argument 'q': expected an integer of 2 or more")
        return tuple(k / q for k in range(1, q))
    if (
        isinstance(probabilities, str)
        or not isinstance(probabilities, Sequence)
        or any(isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1
               for p in probabilities)
    ):
        raise ArgumentInvalid(
            f"{where}: argument 'probabilities': "
            f"expected numbers from 0 to 1, got {probabilities!r}"
        )
    return tuple(float(p) for p in probabilities)


def reduce_quantiles(
    data: np.ma.MaskedArray, probabilities: Sequence[float], ignore_nodata: bool = True
) -> np.ma.MaskedArray:
    """Sample quantiles (linear interpolation, Hyndman & Fan type 7) along axis 0.

    Returns ``(len(probabilities), ...)``; no-data where there is no valid value (or,
    without ``ignore_nodata``, where any value is no-data).
    """
    v, ok, n = _valid(data)
    ordered = np.sort(np.where(ok, v, np.inf), axis=0)
    out = []
    for p in probabilities:
        h = np.clip(n - 1, 0, None) * p
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, np.clip(n - 1, 0, None))
        low = np.take_along_axis(ordered, lo[None], 0)[0]
        high = np.take_along_axis(ordered, hi[None], 0)[0]
        with np.errstate(all="ignore"):
            out.append(np.where(hi > lo, low + (h - lo) * (high - low), low))
    mask = _nodata_rule(data, n == 0, ignore_nodata)
    return _finish(np.stack(out), np.broadcast_to(mask, (len(out), *mask.shape)))


def _quantiles_check(c: Check) -> ValueType:
    _array_check(c)
    try:
        probabilities_of(c.literal("probabilities"), c.literal("q"), c.where)
    except ArgumentInvalid as exc:
        name = "q" if "'q'" in exc.message and c.literal("q") is not None else "probabilities"
        raise c.invalid(name, exc.message.split(": ", 1)[-1]) from None
    if not isinstance(c.literal("ignore_nodata"), bool):
        raise c.invalid("ignore_nodata", "expected true or false")
    return ValueType(ARRAY)


def _quantiles(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    probabilities = probabilities_of(args["probabilities"], args["q"], "quantiles")
    out = reduce_quantiles(stack_of(args["data"], "quantiles"), probabilities,
                           bool(args["ignore_nodata"]))
    return [scalar(v) for v in out] if out.ndim == 1 else out


QUANTILES = Process(
    id="quantiles",
    summary="Quantiles",
    description="Sample quantiles of the values (linear interpolation between the closest "
                "ranks, as numpy's default): at `probabilities`, or the q-quantiles' cut "
                "points for `q`. Gives one value per probability; used with `apply_dimension`.",
    parameters=(
        Parameter("data", "An array of numbers.", ARRAY_SCHEMA),
        Parameter("probabilities", "Probabilities from 0 to 1.",
                  {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}},
                  required=False),
        Parameter("q", "Number of equal-sized intervals (q-quantiles).",
                  {"type": "integer", "minimum": 2}, required=False),
        IGNORE_NODATA,
    ),
    returns={"description": "The quantiles, in the order of the probabilities.",
             "schema": {"type": "array", "items": {"type": ["number", "null"]}}},
    implementation=_quantiles,
    check=_quantiles_check,
    categories=("math > statistics",),
)


# --------------------------------------------------------------------------- count


def _count_check(c: Check) -> ValueType:
    _array_check(c)
    kind = c.type_of("condition").kind
    if kind == PROCESS_GRAPH:
        c.child("condition", {"x": ValueType(NUMBER), "context": c.type_of("context")})
    elif c.literal("condition") not in (None, True):
        raise c.invalid("condition", "expected null, true or a child process graph")
    return ValueType(INTEGER)


def _count(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    data = stack_of(args["data"], "count")
    condition = args["condition"]
    if condition is None:
        _, ok, n = _valid(data)
        counted = n
    elif condition is True:
        counted = np.full(data.shape[1:], data.shape[0])
    else:
        hit = condition(x=data, context=args["context"])
        if isinstance(hit, bool | None):
            counted = np.full(data.shape[1:], data.shape[0] if hit else 0)
        else:
            raw = np.broadcast_to(np.ma.getdata(hit), data.shape)
            counted = (~np.broadcast_to(np.ma.getmaskarray(hit), data.shape) & (raw != 0)).sum(
                axis=0)
    out = np.asarray(counted, dtype=np.int32)
    if out.ndim == 0:
        return int(out)
    return np.ma.MaskedArray(out, mask=np.zeros(out.shape, bool))


COUNT = Process(
    id="count",
    summary="Count the number of elements",
    description="How many values there are: the valid ones (default), all of them "
                "(`condition: true`) or those for which the child graph `condition` (with "
                "parameters `x` and `context`) is true. Per pixel an int32 that is never "
                "no-data.",
    parameters=(
        Parameter("data", "An array.", ARRAY_SCHEMA),
        Parameter("condition", "null (valid values), true (all) or a condition graph.",
                  [{"type": "object", "subtype": PROCESS_GRAPH,
                    "parameters": [
                        {"name": "x", "description": "An element.",
                         "schema": {"description": "Any data type."}},
                        {"name": "context", "description": "The `context` argument.",
                         "schema": {"description": "Any data type."}}],
                    "returns": {"description": "Whether to count the element.",
                                "schema": {"type": "boolean"}}},
                   {"type": ["boolean", "null"]}],
                  required=False),
        Parameter("context", "Data passed to the condition.", {"description": "Any data type."},
                  required=False),
    ),
    returns={"description": "The count.", "schema": {"type": "number"}},
    implementation=_count,
    check=_count_check,
    categories=("arrays", "math > statistics", "reducer"),
)

PROCESSES = (VARIANCE, QUANTILES, COUNT)
