"""Comparisons and logic of openEO 1.x: eq … between, and / or / xor / not, if.

Numbers and strings compare as plain values (metadata filters of ``load_collection``
compare item properties this way); raster cubes and the arrays of child graphs
compare per pixel. Per pixel, true / false are ``uint8`` 1 / 0 and null is a masked
pixel; the logic is three-valued as openEO defines it (``and(false, null)`` is false,
``and(true, null)`` is null).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from .context import CollectionView, EvalContext, as_cube
from .math import _as_cube_like, combined_cube
from .registry import Parameter, Process
from .types import ANY, INTEGER, NUMBER, RASTER_CUBE, Check, ValueType

Pixels = tuple[np.ndarray, np.ndarray]
"""``(values as float64, mask)`` of one input, broadcastable."""
ANY_SCHEMA: Mapping[str, Any] = {"description": "Any data type."}
BOOL_SCHEMA: list[Mapping[str, Any]] = [{"type": ["boolean", "null"]},
                                        {"type": "object", "subtype": RASTER_CUBE}]
BOOL_RETURNS: Mapping[str, Any] = {"description": "true, false or null (per pixel for cubes).",
                                   "schema": {"type": ["boolean", "null"]}}


def _is_pixels(value: Any) -> bool:
    return isinstance(value, Cube | CollectionView | np.ndarray)


def per_pixel(
    fn: Callable[..., Pixels], ctx: EvalContext, name: str, *values: Any, dtype: Any = np.uint8
) -> Any:
    """Apply ``fn(*pixels) -> (values, mask)`` to cubes / arrays / scalars, wrapping like them."""
    values = tuple(as_cube(v, ctx) if isinstance(v, CollectionView) else v for v in values)
    cubes = [v for v in values if isinstance(v, Cube)]
    pixels: list[Pixels] = []
    for v in values:
        raw = v.data if isinstance(v, Cube) else v
        if raw is None:
            pixels.append((np.asarray(0.0), np.asarray(True)))
        elif isinstance(raw, np.ndarray):
            pixels.append((np.asarray(np.ma.getdata(raw), np.float64), np.ma.getmaskarray(raw)))
        elif isinstance(raw, bool | int | float):
            pixels.append((np.asarray(float(raw)), np.asarray(False)))
        else:
            raise ArgumentInvalid(f"{name}: cannot compare {raw!r} with pixel values")
    with np.errstate(all="ignore"):
        out, mask = fn(*pixels)
    mask = np.asarray(mask) | ~np.isfinite(out)
    result = np.ma.MaskedArray(np.where(mask, 0, out).astype(dtype), mask=mask)
    return _as_cube_like(result, cubes, name) if cubes else result


def _scalar_order(x: Any, y: Any) -> tuple[Any, Any] | None:
    """Comparable forms of two scalars (numbers, or ISO datetimes), else None."""
    if isinstance(x, bool) or isinstance(y, bool):
        return None
    if isinstance(x, int | float) and isinstance(y, int | float):
        return x, y
    if isinstance(x, str) and isinstance(y, str):
        try:
            return (datetime.fromisoformat(x.replace("Z", "+00:00")),
                    datetime.fromisoformat(y.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _ordering(pid: str, op: Callable[[Any, Any], Any], text: str) -> Process:
    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        x, y = args["x"], args["y"]
        if not (_is_pixels(x) or _is_pixels(y)):
            if x is None or y is None:
                return None
            pair = _scalar_order(x, y)
            return False if pair is None else bool(op(*pair))
        return per_pixel(lambda a, b: (op(a[0], b[0]), a[1] | b[1]), ctx, pid, x, y)

    return Process(
        id=pid,
        summary=f"{text.capitalize()} comparison",
        description=f"Whether `x` is {text} `y`: numbers, ISO 8601 date-times or, per "
                    "pixel, raster cubes. Null (no-data) in either gives null; values that "
                    "cannot be ordered (a string and a number) give false.",
        parameters=(Parameter("x", "First operand.", ANY_SCHEMA),
                    Parameter("y", "Second operand.", ANY_SCHEMA)),
        returns=BOOL_RETURNS,
        implementation=run,
        check=_bool_check,
        categories=("comparison",),
    )


def _bool_check(c: Check) -> ValueType:
    """Boolean result; a cube when any input is a cube."""
    cubes = [t for t in (c.type_of(n) for n in c.args) if t.kind == RASTER_CUBE]
    return combined_cube(cubes) if cubes else ValueType("boolean")


GT = _ordering("gt", np.greater, "greater than")
GTE = _ordering("gte", np.greater_equal, "greater than or equal to")
LT = _ordering("lt", np.less, "less than")
LTE = _ordering("lte", np.less_equal, "less than or equal to")


def _equal_scalars(x: Any, y: Any, delta: float | None, case_sensitive: bool) -> bool:
    if isinstance(x, str) and isinstance(y, str):
        return x == y if case_sensitive else x.casefold() == y.casefold()
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return abs(x - y) <= delta if delta is not None else x == y
    return bool(x == y)


def _equality(pid: str, negate: bool) -> Process:
    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        x, y, delta = args["x"], args["y"], args["delta"]
        if not (_is_pixels(x) or _is_pixels(y)):
            if x is None or y is None:
                return None
            return _equal_scalars(x, y, delta, bool(args["case_sensitive"])) != negate

        def compare(a: Pixels, b: Pixels) -> Pixels:
            same = np.abs(a[0] - b[0]) <= delta if delta is not None else a[0] == b[0]
            return (~same if negate else same), a[1] | b[1]

        return per_pixel(compare, ctx, pid, x, y)

    def check(c: Check) -> ValueType:
        c.number("delta", optional=True)
        if not isinstance(c.literal("case_sensitive"), bool):
            raise c.invalid("case_sensitive", "expected true or false")
        return _bool_check(Check(c.node_id, c.process_id,
                                 {k: c.args[k] for k in ("x", "y")}, c.catalog, c.child))

    word = "differs from" if negate else "equals"
    return Process(
        id=pid,
        summary="Not equal to comparison" if negate else "Equal to comparison",
        description=f"Whether `x` {word} `y`: numbers (within `delta` when given), strings "
                    "(ignoring case unless `case_sensitive`), booleans or, per pixel, raster "
                    "cubes. Null (no-data) in either gives null.",
        parameters=(
            Parameter("x", "First operand.", ANY_SCHEMA),
            Parameter("y", "Second operand.", ANY_SCHEMA),
            Parameter("delta", "Largest difference of numbers still counted as equal.",
                      {"type": ["number", "null"]}, required=False),
            Parameter("case_sensitive", "Compare strings case-sensitively.",
                      {"type": "boolean"}, required=False, default=True),
        ),
        returns=BOOL_RETURNS,
        implementation=run,
        check=check,
        categories=("comparison",),
    )


EQ = _equality("eq", negate=False)
NEQ = _equality("neq", negate=True)


BOUND_SCHEMA: list[Mapping[str, Any]] = [
    {"type": "number"},
    {"type": "string", "format": "date-time", "subtype": "date-time"},
    {"type": "string", "format": "date", "subtype": "date"},
    {"type": "string", "subtype": "time"},
]


def _between(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    x, low, high, exclusive = args["x"], args["min"], args["max"], bool(args["exclude_max"])
    if not _is_pixels(x):
        if x is None:
            return None
        lo, hi = _scalar_order(x, low), _scalar_order(x, high)
        if lo is None or hi is None:
            return False
        return bool(lo[0] >= lo[1] and (hi[0] < hi[1] if exclusive else hi[0] <= hi[1]))
    upper = np.less if exclusive else np.less_equal
    return per_pixel(lambda a: ((a[0] >= low) & upper(a[0], high), a[1]), ctx, "between", x)


def _between_check(c: Check) -> ValueType:
    for name in ("min", "max"):
        if c.type_of(name).kind not in (NUMBER, INTEGER, "string"):
            raise c.invalid(name, "expected a number or a date-time")
    if not isinstance(c.literal("exclude_max"), bool):
        raise c.invalid("exclude_max", "expected true or false")
    return _bool_check(Check(c.node_id, c.process_id, {"x": c.args["x"]}, c.catalog, c.child))


BETWEEN = Process(
    id="between",
    summary="Between comparison",
    description="Whether `x` lies in [min, max] (or [min, max) with `exclude_max`); numbers, "
                "ISO 8601 date-times or, per pixel, raster cubes. Null x gives null.",
    parameters=(
        Parameter("x", "The value(s) to check.", ANY_SCHEMA),
        Parameter("min", "Lower bound (included).", BOUND_SCHEMA),
        Parameter("max", "Upper bound.", BOUND_SCHEMA),
        Parameter("exclude_max", "Exclude the upper bound.", {"type": "boolean"},
                  required=False, default=False),
    ),
    returns=BOOL_RETURNS,
    implementation=_between,
    check=_between_check,
    categories=("comparison",),
)


# --------------------------------------------------------------------------- logic


def _truth(p: Pixels) -> tuple[np.ndarray, np.ndarray]:
    """``(true, false)`` masks of one input (null is neither)."""
    return ~p[1] & (p[0] != 0), ~p[1] & (p[0] == 0)


def _and(a: Pixels, b: Pixels) -> Pixels:
    (at, af), (bt, bf) = _truth(a), _truth(b)
    false = af | bf
    return ~false, ~false & ~(at & bt)


def _or(a: Pixels, b: Pixels) -> Pixels:
    (at, af), (bt, bf) = _truth(a), _truth(b)
    true = at | bt
    return true, ~true & ~(af & bf)


def _xor(a: Pixels, b: Pixels) -> Pixels:
    return (a[0] != 0) != (b[0] != 0), a[1] | b[1]


def _not(a: Pixels) -> Pixels:
    return a[0] == 0, a[1]


_SCALAR_LOGIC: Mapping[str, Callable[..., bool | None]] = {
    "and": lambda x, y: False if False in (x, y) else (None if None in (x, y) else True),
    "or": lambda x, y: True if True in (x, y) else (None if None in (x, y) else False),
    "xor": lambda x, y: None if None in (x, y) else x != y,
    "not": lambda x: None if x is None else not x,
}


def _logic(pid: str, fn: Callable[..., Pixels], text: str) -> Process:
    names = ("x",) if pid == "not" else ("x", "y")

    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        values = [args[n] for n in names]
        if not any(_is_pixels(v) for v in values):
            return _SCALAR_LOGIC[pid](*(None if v is None else bool(v) for v in values))
        return per_pixel(fn, ctx, pid, *values)

    def check(c: Check) -> ValueType:
        for n in names:
            if c.type_of(n).kind not in ("boolean", "null", RASTER_CUBE, ANY, NUMBER, INTEGER):
                raise c.invalid(n, f"expected a boolean, got {c.type_of(n).describe()}")
        return _bool_check(c)

    return Process(
        id=pid,
        summary=f"Logical {pid.upper()}",
        description=text + " Booleans, or per pixel for raster cubes (non-zero is true).",
        parameters=tuple(Parameter(n, "A boolean value.", BOOL_SCHEMA) for n in names),
        returns=BOOL_RETURNS,
        implementation=run,
        check=check,
        categories=("logic",),
    )


AND = _logic("and", _and, "True when both are true; false when either is false (even if the "
             "other is null); otherwise null.")
OR = _logic("or", _or, "True when either is true (even if the other is null); false when both "
            "are false; otherwise null.")
XOR = _logic("xor", _xor, "True when exactly one is true; null when either is null.")
NOT = _logic("not", _not, "The opposite of `x`; null stays null.")


def _if(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    value, accept, reject = args["value"], args["accept"], args["reject"]
    if not any(_is_pixels(v) for v in (value, accept, reject)):
        return accept if value is True or (value not in (None, False) and bool(value)) else reject

    def choose(v: Pixels, a: Pixels, r: Pixels) -> Pixels:
        yes = ~v[1] & (v[0] != 0)
        return np.where(yes, a[0], r[0]), np.where(yes, a[1], r[1])

    return per_pixel(choose, ctx, "if", value, accept, reject, dtype=np.float32)


def _if_check(c: Check) -> ValueType:
    cubes = [t for t in (c.type_of(n) for n in ("value", "accept", "reject"))
             if t.kind == RASTER_CUBE]
    return combined_cube(cubes) if cubes else c.type_of("accept")


IF = Process(
    id="if",
    summary="If-Then-Else conditional",
    description="`accept` where `value` is true, else `reject` (default null); per pixel for "
                "raster cubes, where a null value selects `reject`.",
    parameters=(
        Parameter("value", "The condition.", BOOL_SCHEMA),
        Parameter("accept", "The value where the condition is true.", ANY_SCHEMA),
        Parameter("reject", "The value elsewhere.", ANY_SCHEMA, required=False),
    ),
    returns={"description": "`accept` or `reject`.", "schema": ANY_SCHEMA},
    implementation=_if,
    check=_if_check,
    categories=("logic", "comparison", "masks"),
)

PROCESSES = (EQ, NEQ, GT, GTE, LT, LTE, BETWEEN, AND, OR, XOR, NOT, IF)
