"""Math processes: reducers over an array, array_element, elementwise arithmetic.

Values are cubes (and views, read with all their bands), masked arrays (inside a
reducer's child graph, one value per pixel) or plain numbers. Masks travel: any
masked input masks the output, and an infinite or undefined result (x / 0) is
masked rather than written as a number. Float results are float32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from .context import CollectionView, EvalContext, LabelledArray, as_cube
from .params import ARRAY_SCHEMA, CUBE_SCHEMA, resolve_band_type
from .registry import Parameter, Process
from .types import ANY, ARRAY, INTEGER, NUMBER, RASTER_CUBE, Check, ValueType

Reducer = Callable[[np.ma.MaskedArray, bool], np.ma.MaskedArray]

VALUE_SCHEMA: Mapping[str, Any] = {"anyOf": [{"type": ["number", "null"]}, CUBE_SCHEMA]}


# --------------------------------------------------------------------------- reducers


def _valid(data: np.ma.MaskedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values as float64, valid mask, count of valid)`` along axis 0."""
    values = np.asarray(np.ma.getdata(data), dtype=np.float64)
    valid = ~np.ma.getmaskarray(data) & np.isfinite(values)
    return values, valid, valid.sum(axis=0)


def _finish(out: np.ndarray, mask: np.ndarray) -> np.ma.MaskedArray:
    """float32 result masked where ``mask`` or not finite."""
    with np.errstate(all="ignore"):
        result = np.asarray(out, dtype=np.float32)
    mask = np.asarray(mask) | ~np.isfinite(result)
    return np.ma.MaskedArray(np.where(mask, np.float32(0), result), mask=mask)


def _nodata_rule(data: np.ma.MaskedArray, mask: np.ndarray, ignore_nodata: bool) -> np.ndarray:
    return mask if ignore_nodata else mask | np.ma.getmaskarray(data).any(axis=0)


def _extreme(data: np.ma.MaskedArray, ignore_nodata: bool, largest: bool) -> np.ma.MaskedArray:
    """Min or max of valid values along axis 0, in the data's own float precision (exact)."""
    values = np.ma.getdata(data)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    ok = ~np.ma.getmaskarray(data) & np.isfinite(values)
    fill = values.dtype.type(-np.inf if largest else np.inf)
    filled = np.where(ok, values, fill)
    out = filled.max(axis=0, initial=fill) if largest else filled.min(axis=0, initial=fill)
    return _finish(out, _nodata_rule(data, ~ok.any(axis=0), ignore_nodata))


def reduce_min(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Smallest valid value along axis 0."""
    return _extreme(data, ignore_nodata, largest=False)


def reduce_max(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Largest valid value along axis 0."""
    return _extreme(data, ignore_nodata, largest=True)


def reduce_sum(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Sum of valid values along axis 0 (masked when there is none)."""
    v, ok, n = _valid(data)
    return _finish(np.where(ok, v, 0.0).sum(axis=0), _nodata_rule(data, n == 0, ignore_nodata))


def reduce_mean(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Mean of valid values along axis 0."""
    v, ok, n = _valid(data)
    with np.errstate(all="ignore"):
        out = np.where(ok, v, 0.0).sum(axis=0) / n
    return _finish(out, _nodata_rule(data, n == 0, ignore_nodata))


def reduce_median(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Median of valid values along axis 0 (mean of the two middle ones for even counts)."""
    v, ok, n = _valid(data)
    if data.shape[0] == 0:
        return _finish(np.zeros(data.shape[1:]), np.ones(data.shape[1:], bool))
    ordered = np.sort(np.where(ok, v, np.inf), axis=0)
    lo = np.clip((n - 1) // 2, 0, None)[None]
    hi = np.clip(n // 2, 0, None)[None]
    with np.errstate(all="ignore"):
        out = (np.take_along_axis(ordered, lo, 0)[0] + np.take_along_axis(ordered, hi, 0)[0]) / 2
    return _finish(out, _nodata_rule(data, n == 0, ignore_nodata))


def reduce_sd(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Sample standard deviation (n - 1) of valid values; masked with fewer than two."""
    v, ok, n = _valid(data)
    with np.errstate(all="ignore"):
        mean = np.where(ok, v, 0.0).sum(axis=0) / n
        var = np.where(ok, (v - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
        out = np.sqrt(var)
    return _finish(out, _nodata_rule(data, n < 2, ignore_nodata))


def reduce_count(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Number of valid values along axis 0 (int32, never masked)."""
    _, _, n = _valid(data)
    count = n.astype(np.int32) if ignore_nodata else np.full(n.shape, data.shape[0], np.int32)
    return np.ma.MaskedArray(count, mask=np.zeros(count.shape, dtype=bool))


def reduce_first(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """First valid value along axis 0 (with ``ignore_nodata=False``: the first value)."""
    return _pick(data, ignore_nodata, last=False)


def reduce_last(data: np.ma.MaskedArray, ignore_nodata: bool = True) -> np.ma.MaskedArray:
    """Last valid value along axis 0 (with ``ignore_nodata=False``: the last value)."""
    return _pick(data, ignore_nodata, last=True)


def _pick(data: np.ma.MaskedArray, ignore_nodata: bool, *, last: bool) -> np.ma.MaskedArray:
    v, ok, n = _valid(data)
    if data.shape[0] == 0:
        return _finish(np.zeros(data.shape[1:]), np.ones(data.shape[1:], bool))
    if not ignore_nodata:
        row = data.shape[0] - 1 if last else 0
        return _finish(v[row], ~ok[row])
    if last:
        pos = data.shape[0] - 1 - np.argmax(ok[::-1], axis=0)
    else:
        pos = np.argmax(ok, axis=0)
    return _finish(np.take_along_axis(v, pos[None], 0)[0], n == 0)


REDUCERS: Mapping[str, Reducer] = {
    "min": reduce_min, "max": reduce_max, "mean": reduce_mean, "median": reduce_median,
    "sum": reduce_sum, "count": reduce_count, "first": reduce_first, "last": reduce_last,
    "sd": reduce_sd,
}
_REDUCER_TEXT = {
    "min": "the minimum", "max": "the maximum", "mean": "the arithmetic mean",
    "median": "the median", "sum": "the sum", "count": "the number",
    "first": "the first", "last": "the last", "sd": "the sample standard deviation",
}


def stack_of(value: Any, where: str) -> np.ma.MaskedArray:
    """The values a reducer reduces: a labelled array or a literal list of numbers/nulls."""
    if isinstance(value, LabelledArray):
        return value.values()
    if isinstance(value, Sequence) and not isinstance(value, str):
        if any(v is not None and not isinstance(v, np.ndarray) and (
                isinstance(v, bool) or not isinstance(v, int | float)) for v in value):
            raise ArgumentInvalid(f"{where}: expected an array of numbers, got {value!r}")
        return _literal_stack(value, where)
    raise ArgumentInvalid(f"{where}: expected an array, got {type(value).__name__}")


def _literal_stack(value: Sequence[Any], where: str) -> np.ma.MaskedArray:
    """``[x, y, 3, null]`` in a child graph: numbers and per-pixel arrays stacked on axis 0."""
    arrays = [v for v in value if isinstance(v, np.ndarray)]
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays)) if arrays else ()
    layers = []
    for v in value:
        if isinstance(v, np.ndarray):
            layers.append(np.ma.MaskedArray(np.broadcast_to(np.ma.getdata(v), shape),
                                            mask=np.broadcast_to(np.ma.getmaskarray(v), shape)))
        else:
            raw = np.full(shape, np.nan if v is None else v, dtype=np.float64)
            layers.append(np.ma.MaskedArray(raw, mask=~np.isfinite(raw)))
    return np.ma.stack(layers)


def _reducer_process(name: str) -> Process:
    fn = REDUCERS[name]

    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        out = fn(stack_of(args["data"], name), bool(args["ignore_nodata"]))
        return scalar(out) if out.ndim == 0 else out

    def check(c: Check) -> ValueType:
        t = c.type_of("data")
        if t.kind not in (ARRAY, ANY):
            raise c.invalid("data", f"expected an array (a reducer's data), got {t.describe()}")
        if not isinstance(c.literal("ignore_nodata"), bool):
            raise c.invalid("ignore_nodata", "expected true or false")
        return ValueType(INTEGER if name == "count" else NUMBER)

    return Process(
        id=name,
        summary=f"{_REDUCER_TEXT[name].capitalize()} of the values",
        description=(
            f"Computes {_REDUCER_TEXT[name]} of {'valid ' if name == 'count' else ''}values "
            "of an array, per pixel; used as the reducer of `reduce_dimension`. No-data "
            "values are ignored (with `ignore_nodata` true); a pixel with no valid value is "
            "no-data" + (" (count gives 0)." if name == "count" else ".")
        ),
        parameters=(
            Parameter("data", "An array of numbers.", ARRAY_SCHEMA),
            Parameter("ignore_nodata", "Ignore no-data values (else any no-data gives no-data).",
                      {"type": "boolean"}, required=False, default=True),
        ),
        returns={"description": "The reduced value.", "schema": {"type": ["number", "null"]}},
        implementation=run,
        check=check,
        categories=("math", "reducer"),
    )


def scalar(value: Any) -> float | int | None:
    """A 0-d masked value as a Python number (``None`` when masked or not finite)."""
    if value is np.ma.masked or np.ma.getmaskarray(value).any():
        return None
    number = np.asarray(np.ma.getdata(value)).item()
    if isinstance(number, float) and not np.isfinite(number):
        return None
    return number  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- array_element


def _array_element(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    data = args["data"]
    index, label = args["index"], args["label"]
    if isinstance(data, LabelledArray):
        try:
            return data.element(index=index, label=label)
        except ArgumentInvalid:
            if args["return_nodata"]:
                return None
            raise
    values = stack_of(data, "array_element")
    if label is not None or not isinstance(index, int) or not 0 <= index < values.shape[0]:
        if args["return_nodata"]:
            return None
        raise ArgumentInvalid(f"array_element: no element at index {index!r} / label {label!r}")
    return scalar(values[index])


def _array_element_check(c: Check) -> ValueType:
    t = c.type_of("data")
    if t.kind not in (ARRAY, ANY):
        raise c.invalid("data", f"expected an array, got {t.describe()}")
    index, label = c.literal("index"), c.literal("label")
    if (index is None) == (label is None):
        raise c.invalid("index", "give exactly one of 'index' and 'label'")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
        raise c.invalid("index", f"expected a non-negative integer, got {index!r}")
    if label is not None and (isinstance(label, bool) or not isinstance(label, str | int | float)):
        raise c.invalid("label", f"expected a string or number, got {label!r}")
    if not isinstance(c.literal("return_nodata"), bool):
        raise c.invalid("return_nodata", "expected true or false")
    if t.dimension == "bands" and t.bands is not None and not c.literal("return_nodata"):
        if index is not None and index >= len(t.bands):
            raise c.invalid("index", f"{index} is out of range: {len(t.bands)} bands "
                            f"({', '.join(t.bands)})")
        if label is not None:
            resolve_band_type(c, "label", str(label), ValueType(RASTER_CUBE, bands=t.bands,
                                                           collection=t.collection))
    return ValueType(NUMBER)


ARRAY_ELEMENT = Process(
    id="array_element",
    summary="Get an element from an array",
    description=(
        "The element at a zero-based `index` or with a `label` (a band name, band id or "
        "common name when reducing bands), per pixel. Give exactly one of both."
    ),
    parameters=(
        Parameter("data", "An array.", ARRAY_SCHEMA),
        Parameter("index", "Zero-based position.", {"type": ["integer", "null"], "minimum": 0},
                  required=False),
        Parameter("label", "Label of the element.", {"type": ["string", "number", "null"]},
                  required=False),
        Parameter("return_nodata", "Return no-data instead of failing when absent.",
                  {"type": "boolean"}, required=False, default=False),
    ),
    returns={"description": "The element.", "schema": {"type": ["number", "null"]}},
    implementation=_array_element,
    check=_array_element_check,
    categories=("arrays",),
)


# --------------------------------------------------------------------------- elementwise


def elementwise(fn: Callable[..., Any], ctx: EvalContext, name: str, *values: Any) -> Any:
    """Apply ``fn`` to the raw values of cubes / masked arrays / numbers, masks travelling.

    Cubes broadcast over a single band or a reduced time axis; the result is a cube
    if any input is one, else a masked array, else a number (``None`` if undefined).
    """
    values = tuple(as_cube(v, ctx) if isinstance(v, CollectionView) else v for v in values)
    cubes = [v for v in values if isinstance(v, Cube)]
    if any(v is None for v in values):
        if cubes or any(isinstance(v, np.ndarray) for v in values):
            return _all_masked(values, cubes)
        return None
    raws: list[Any] = []
    masks: list[np.ndarray] = []
    for v in values:
        if isinstance(v, Cube):
            raws.append(np.ma.getdata(v.data))
            masks.append(np.ma.getmaskarray(v.data))
        elif isinstance(v, np.ndarray):
            raws.append(np.ma.getdata(v))
            masks.append(np.ma.getmaskarray(v))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            raws.append(np.float64(v))
        else:
            raise ArgumentInvalid(f"{name}: expected a number or raster cube, got {v!r}")
    with np.errstate(all="ignore"):
        out = fn(*raws)
    if not cubes and not masks:
        number = float(out)
        return number if np.isfinite(number) else None
    mask = np.zeros(np.shape(out), dtype=bool)
    for m in masks:
        mask = mask | m
    result = _finish(out, mask)
    if not cubes:
        return result
    return _as_cube_like(result, cubes, name)


def _all_masked(values: tuple[Any, ...], cubes: list[Cube]) -> Any:
    shapes = [np.shape(v.data if isinstance(v, Cube) else v) for v in values if v is not None]
    shape = np.broadcast_shapes(*shapes) if shapes else ()
    out = np.ma.MaskedArray(np.zeros(shape, np.float32), mask=np.ones(shape, bool))
    return _as_cube_like(out, cubes, "null") if cubes else out


def _as_cube_like(data: np.ma.MaskedArray, cubes: list[Cube], name: str) -> Cube:
    """Wrap a broadcast result in a cube with the inputs' labels."""
    if data.ndim != 4:
        raise ArgumentInvalid(f"{name}: cannot combine a cube with an array of shape {data.shape}")
    timed = [c for c in cubes if c.times is not None]
    times = timed[0].times if timed else None
    if any(c.times != times for c in timed):
        raise ArgumentInvalid(f"{name}: the cubes have different time steps")
    widest = max(cubes, key=lambda c: len(c.bands))
    same = all(c.bands == widest.bands or len(c.bands) == 1 for c in cubes)
    if not same:
        raise ArgumentInvalid(
            f"{name}: cannot combine bands {[c.bands for c in cubes]}; use one band or equal bands"
        )
    bands = widest.bands
    if len(bands) == 1 and any(c.bands != bands for c in cubes):
        bands = (name,)
    return widest.with_data(data, times=times, bands=bands)


def _value_check(c: Check, *names: str) -> ValueType:
    """The output type of an elementwise process over ``names``."""
    types = [c.type_of(n) for n in names]
    for n, t in zip(names, types, strict=True):
        if t.kind not in (NUMBER, INTEGER, RASTER_CUBE, "null", ANY):
            raise c.invalid(n, f"expected a number or a raster cube, got {t.describe()}")
    cubes = [t for t in types if t.kind == RASTER_CUBE]
    return combined_cube(cubes) if cubes else ValueType(NUMBER)


def combined_cube(cubes: list[ValueType]) -> ValueType:
    """The type of a per-pixel result of ``cubes``: timed if any is; one cube keeps its bands."""
    return ValueType(RASTER_CUBE, has_time=any(t.has_time for t in cubes),
                     bands=cubes[0].bands if len(cubes) == 1 else None)


def _binary(pid: str, summary: str, fn: Callable[[Any, Any], Any], note: str = "") -> Process:
    def run(args: Mapping[str, Any], ctx: EvalContext) -> Any:
        return elementwise(fn, ctx, pid, args["x"], args["y"])

    return Process(
        id=pid,
        summary=summary,
        description=(
            f"{summary} of `x` and `y`, per pixel: numbers, or raster cubes (a one-band "
            "cube or a cube without time broadcasts over the other). No-data in either "
            f"gives no-data.{note}"
        ),
        parameters=(
            Parameter("x", "First operand.", VALUE_SCHEMA),
            Parameter("y", "Second operand.", VALUE_SCHEMA),
        ),
        returns={"description": "The result.", "schema": VALUE_SCHEMA},
        implementation=run,
        check=lambda c: _value_check(c, "x", "y"),
        categories=("math",),
    )


def _normalized_difference(x: Any, y: Any) -> Any:
    return (x - y) / (x + y)


ADD = _binary("add", "Sum", np.add)
SUBTRACT = _binary("subtract", "Difference", np.subtract)
MULTIPLY = _binary("multiply", "Product", np.multiply)
DIVIDE = _binary("divide", "Quotient", np.divide,
                 " Division by zero gives no-data, never infinity.")
NORMALIZED_DIFFERENCE = _binary(
    "normalized_difference", "Normalized difference", _normalized_difference,
    " Computes (x - y) / (x + y); where x + y is 0 the result is no-data.",
)


PROCESSES = (
    *(_reducer_process(name) for name in REDUCERS if name != "count"),
    ARRAY_ELEMENT, ADD, SUBTRACT, MULTIPLY, DIVIDE, NORMALIZED_DIFFERENCE,
)
