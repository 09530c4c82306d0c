"""Elementwise math of openEO 1.x: power, sqrt, absolute, ln, log, exp, clip.

Like add/subtract (:mod:`.math`), each takes numbers, masked arrays (inside child
graphs) or raster cubes; no-data stays no-data and undefined results (sqrt(-1),
ln(0)) are no-data, never NaN or infinity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .context import EvalContext
from .math import VALUE_SCHEMA, _value_check, elementwise
from .params import NUMBER_SCHEMA
from .registry import Parameter, Process
from .types import Check, ValueType

VALUE_RETURNS: Mapping[str, Any] = {"description": "The computed value(s).",
                                    "schema": VALUE_SCHEMA}


def _process(
    pid: str, summary: str, text: str, names: tuple[str, ...], fn: Callable[..., Any]
) -> Process:
    """An elementwise process over the parameters ``names`` (all numbers or cubes)."""

    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        return elementwise(fn, ctx, pid, *(args[n] for n in names))

    return Process(
        id=pid,
        summary=summary,
        description=text + " Per pixel for raster cubes; no-data in any input gives no-data.",
        parameters=tuple(Parameter(n, f"The {'operand' if n == 'x' else n}.", VALUE_SCHEMA)
                         for n in names),
        returns=VALUE_RETURNS,
        implementation=run,
        check=lambda c: _value_check(c, *names),
        categories=("math",),
    )


def _log(x: Any, base: Any) -> Any:
    return np.log(x) / np.log(base)


POWER = _process("power", "Exponentiation", "`base` raised to the power `p`.", ("base", "p"),
                 np.power)
SQRT = _process("sqrt", "Square root", "The square root of `x`; negative `x` gives no-data.",
                ("x",), np.sqrt)
ABSOLUTE = _process("absolute", "Absolute value", "The absolute value of `x`.", ("x",), np.abs)
LN = _process("ln", "Natural logarithm", "The natural logarithm of `x`; `x` <= 0 gives no-data.",
              ("x",), np.log)
LOG = _process("log", "Logarithm to a base", "The logarithm of `x` to `base`; undefined "
               "results (x <= 0, base 1) give no-data.", ("x", "base"), _log)
EXP = _process("exp", "Exponentiation to the base e", "e raised to the power `p`.", ("p",),
               np.exp)


def _clip_check(c: Check) -> ValueType:
    low, high = c.number("min"), c.number("max")
    assert low is not None and high is not None
    if low > high:
        raise c.invalid("max", f"must not be less than min ({low:g})")
    return _value_check(c, "x")


def _clip(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    low, high = float(args["min"]), float(args["max"])
    return elementwise(lambda x: np.clip(x, low, high), ctx, "clip", args["x"])


CLIP = Process(
    id="clip",
    summary="Clip a value between a minimum and a maximum",
    description="Values below `min` become `min`, values above `max` become `max`; no-data "
                "stays no-data.",
    parameters=(
        Parameter("x", "The value(s) to clip.", VALUE_SCHEMA),
        Parameter("min", "Lower bound.", NUMBER_SCHEMA),
        Parameter("max", "Upper bound.", NUMBER_SCHEMA),
    ),
    returns=VALUE_RETURNS,
    implementation=_clip,
    check=_clip_check,
    categories=("math",),
)

# --------------------------------------------------------------------------- linear_scale_range


def _linear_check(c: Check) -> ValueType:
    lo, hi = c.number("inputMin"), c.number("inputMax")
    c.number("outputMin")
    c.number("outputMax")
    if lo == hi:
        raise c.invalid("inputMax", f"must differ from inputMin ({lo:g})")
    return _value_check(c, "x")


def _linear(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    lo, hi = float(args["inputMin"]), float(args["inputMax"])
    out_lo, out_hi = float(args["outputMin"]), float(args["outputMax"])

    def scale(x: Any) -> Any:
        clipped = np.clip(x, min(lo, hi), max(lo, hi))
        return (clipped - lo) / (hi - lo) * (out_hi - out_lo) + out_lo

    return elementwise(scale, ctx, "linear_scale_range", args["x"])


LINEAR_SCALE_RANGE = Process(
    id="linear_scale_range",
    summary="Linear transformation between two ranges",
    description=(
        "Clips `x` to [inputMin, inputMax] and maps that range linearly onto "
        "[outputMin, outputMax], per pixel. No-data stays no-data. The draft's "
        "`imagery` / a `data` cube is accepted as `x`."
    ),
    parameters=(
        Parameter("x", "A number or raster cube.", VALUE_SCHEMA),
        Parameter("inputMin", "Minimum of the input range.", NUMBER_SCHEMA),
        Parameter("inputMax", "Maximum of the input range.", NUMBER_SCHEMA),
        Parameter("outputMin", "Minimum of the output range.", NUMBER_SCHEMA,
                  required=False, default=0),
        Parameter("outputMax", "Maximum of the output range.", NUMBER_SCHEMA,
                  required=False, default=1),
    ),
    returns={"description": "The scaled values.", "schema": VALUE_SCHEMA},
    implementation=_linear,
    check=_linear_check,
    legacy={"imagery": "x", "data": "x"},
    categories=("math",),
)

PROCESSES = (LINEAR_SCALE_RANGE, POWER, SQRT, ABSOLUTE, LN, LOG, EXP, CLIP)
