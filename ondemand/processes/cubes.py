"""Combining and relabelling cubes: merge_cubes and rename_labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from .context import EvalContext, as_cube
from .math import _finish
from .params import CUBE_RETURNS, CUBE_SCHEMA, DATA
from .registry import Parameter, Process
from .types import PROCESS_GRAPH, RASTER_CUBE, Check, ValueType

# --------------------------------------------------------------------------- merge_cubes


def _merge_check(c: Check) -> ValueType:
    one, two = c.cube("cube1"), c.cube("cube2")
    resolver = c.type_of("overlap_resolver").kind
    if resolver == PROCESS_GRAPH:
        c.child("overlap_resolver", {"x": ValueType("number"), "y": ValueType("number"),
                                     "context": c.type_of("context")})
    elif c.literal("overlap_resolver") is not None:
        raise c.invalid("overlap_resolver", "expected null or a child process graph")
    bands = None
    if one.bands is not None and two.bands is not None:
        bands = (*one.bands, *(b for b in two.bands if b not in one.bands))
    return ValueType(RASTER_CUBE, has_time=one.has_time or two.has_time, bands=bands)


def _expand(cube: Cube, times: Sequence[datetime] | None, bands: Sequence[str]) -> tuple[
        np.ma.MaskedArray, np.ndarray]:
    """The cube on the merged labels (no data elsewhere) and where it has cells ``(t, b)``."""
    n_t = 1 if times is None else len(times)
    shape = (n_t, len(bands), cube.height, cube.width)
    data = np.zeros(shape, np.float32)
    mask = np.ones(shape, bool)
    present = np.zeros((n_t, len(bands)), bool)
    if cube.times is None:
        rows = list(range(n_t))  # repeated at every date of the other cube
    else:
        assert times is not None
        rows = [times.index(t) for t in cube.times]
    for b, name in enumerate(cube.bands):
        col = list(bands).index(name)
        source = cube.data[:, b]
        for k, row in enumerate(rows):
            layer = source[0 if cube.times is None else k]
            data[row, col] = np.ma.getdata(layer)
            mask[row, col] = np.ma.getmaskarray(layer)
            present[row, col] = True
    return np.ma.MaskedArray(data, mask=mask), present


def _merge(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    one, two = as_cube(args["cube1"], ctx), as_cube(args["cube2"], ctx)
    if (one.crs, one.transform, one.data.shape[2:]) != (two.crs, two.transform,
                                                         two.data.shape[2:]):
        raise ArgumentInvalid("merge_cubes: the cubes are on different grids; align them with "
                              "resample_cube_spatial first")
    times: tuple[datetime, ...] | None = None
    if one.times is not None or two.times is not None:
        times = tuple(sorted(set(one.times or ()) | set(two.times or ())))
    bands = (*one.bands, *(b for b in two.bands if b not in one.bands))
    first, has_first = _expand(one, times, bands)
    second, has_second = _expand(two, times, bands)
    overlap = has_first & has_second
    take_first = np.broadcast_to(has_first[:, :, None, None], first.shape)
    out = np.ma.MaskedArray(
        np.where(take_first, np.ma.getdata(first), np.ma.getdata(second)),
        mask=np.where(take_first, np.ma.getmaskarray(first), np.ma.getmaskarray(second)),
    )
    if overlap.any():
        resolver = args["overlap_resolver"]
        if resolver is None:
            cells = sorted({bands[b] for _, b in zip(*np.nonzero(overlap), strict=True)})
            raise ArgumentInvalid(
                f"merge_cubes: the cubes overlap in bands {', '.join(cells)}; give an "
                "overlap_resolver such as max or mean"
            )
        resolved = resolver(x=first[overlap], y=second[overlap], context=args["context"])
        value = _finish(np.ma.getdata(resolved), np.ma.getmaskarray(resolved))
        out[overlap] = value
    return one.with_data(np.ma.MaskedArray(np.ma.getdata(out), mask=np.ma.getmaskarray(out)),
                         times=times, bands=bands)


MERGE_CUBES = Process(
    id="merge_cubes",
    summary="Merge two data cubes",
    description="Joins two cubes on the same grid: bands and dates of both, `cube1`'s bands "
                "first. Where both have the same band at the same date, `overlap_resolver` "
                "(a child graph with `x` from cube1 and `y` from cube2, e.g. `max` of [x, y] "
                "or `or`) decides; without one that is an error. A cube without time is "
                "repeated at every date of the other.",
    parameters=(
        Parameter("cube1", "The first cube.", CUBE_SCHEMA),
        Parameter("cube2", "The second cube.", CUBE_SCHEMA),
        Parameter("overlap_resolver", "A child graph resolving overlapping values, or null.",
                  [{"type": "object", "subtype": PROCESS_GRAPH, "parameters": [
                      {"name": "x", "description": "The value of cube1.",
                       "schema": {"description": "Any data type."}},
                      {"name": "y", "description": "The value of cube2.",
                       "schema": {"description": "Any data type."}},
                      {"name": "context", "description": "The `context` argument.",
                       "schema": {"description": "Any data type."}}]},
                   {"type": "null"}], required=False),
        Parameter("context", "Data passed to the resolver.", {"description": "Any data type."},
                  required=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_merge,
    check=_merge_check,
    categories=("cubes",),
)


# --------------------------------------------------------------------------- rename_labels


def renamed(bands: Sequence[str], target: Sequence[Any], source: Sequence[Any] | None,
            where: str) -> tuple[str, ...]:
    """The band labels after renaming ``source`` (default: all, in order) to ``target``."""
    target = [str(t) for t in target]
    if source is None or len(source) == 0:
        if len(target) != len(bands):
            raise ArgumentInvalid(f"{where}: argument 'target': {len(target)} labels for "
                                  f"{len(bands)} bands ({', '.join(bands)})")
        out = target
    else:
        if len(source) != len(target):
            raise ArgumentInvalid(f"{where}: argument 'source' has {len(source)} labels but "
                                  f"'target' {len(target)}")
        missing = [str(s) for s in source if str(s) not in bands]
        if missing:
            raise ArgumentInvalid(f"{where}: argument 'source': no band {missing[0]!r}; bands: "
                                  f"{', '.join(bands)}")
        mapping = dict(zip((str(s) for s in source), target, strict=True))
        out = [mapping.get(b, b) for b in bands]
    if len(set(out)) != len(out):
        raise ArgumentInvalid(f"{where}: the new labels {out} are not unique")
    return tuple(out)


def _labels(c: Check, name: str) -> Sequence[Any] | None:
    value = c.literal(name)
    if value is None and name == "source":
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or any(
            isinstance(v, bool) or not isinstance(v, str | int | float) for v in value):
        raise c.invalid(name, f"expected a list of labels, got {value!r}")
    return value


def _rename_check(c: Check) -> ValueType:
    cube = c.cube()
    if c.literal("dimension") != "bands":
        raise c.invalid("dimension", f"only the labels of 'bands' can be renamed (the dates "
                        f"of 't' are fixed), got {c.literal('dimension')!r}")
    target, source = _labels(c, "target"), _labels(c, "source")
    assert target is not None
    if cube.bands is None:
        return ValueType(RASTER_CUBE, has_time=cube.has_time)
    return ValueType(RASTER_CUBE, has_time=cube.has_time,
                     bands=renamed(cube.bands, target, source, c.where))


def _rename(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube = as_cube(args["data"], ctx)
    return cube.with_data(cube.data, bands=renamed(cube.bands, args["target"], args["source"],
                                                   "rename_labels"))


RENAME_LABELS = Process(
    id="rename_labels",
    summary="Rename dimension labels",
    description="Renames band labels: `source` labels become the `target` labels at the "
                "same positions; without `source` every band is renamed in order. Only the "
                "`bands` dimension has labels to rename.",
    parameters=(
        DATA,
        Parameter("dimension", "The dimension: bands.", {"type": "string"}),
        Parameter("target", "The new labels.", {"type": "array",
                                                "items": {"type": ["number", "string"]}}),
        Parameter("source", "The labels to rename (default: all, in order).",
                  {"type": "array", "items": {"type": ["number", "string"]}},
                  required=False, default=[]),
    ),
    returns=CUBE_RETURNS,
    implementation=_rename,
    check=_rename_check,
    categories=("cubes",),
)

PROCESSES = (MERGE_CUBES, RENAME_LABELS)
