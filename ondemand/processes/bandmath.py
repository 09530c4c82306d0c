"""Band math: ndvi, band_math (numexpr expressions) and mask.

Each reads exactly the bands it needs from a view (``ndvi`` reads red and nir only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numexpr
import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid, BandNotFound
from .context import ClassMask, CollectionView, CubeMask, EvalContext, as_cube, cube_mask
from .expression import parse_expressions
from .math import _finish
from .params import CUBE_RETURNS, CUBE_SCHEMA, DATA, DATA_LEGACY, resolve_band_type
from .registry import Parameter, Process
from .types import RASTER_CUBE, Check, ValueType


def band_name(data: Any, ref: str | int) -> str:
    """Resolve a band reference on a view (through its collection) or a cube (its labels)."""
    if isinstance(data, CollectionView):
        return data.band(ref)
    if isinstance(data, Cube):
        if str(ref) in data.bands:
            return str(ref)
        raise BandNotFound(f"No band {ref!r} in the cube (bands: {', '.join(data.bands)})")
    raise ArgumentInvalid(f"Expected a raster cube, got {type(data).__name__}")


# --------------------------------------------------------------------------- ndvi

BAND_SCHEMA = [{"type": "string", "subtype": "band-name"}, {"type": "integer"}]


def _ndvi_check(c: Check) -> ValueType:
    cube = c.cube()
    for name in ("red", "nir"):
        ref = c.literal(name)
        if isinstance(ref, bool) or not isinstance(ref, str | int):
            raise c.invalid(name, f"expected a band name, got {ref!r}")
        resolve_band_type(c, name, ref, cube)
    target = c.literal("target_band")
    if target is None:
        return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=("ndvi",))
    if not isinstance(target, str) or not target:
        raise c.invalid("target_band", f"expected a band name or null, got {target!r}")
    if cube.bands is not None and target in cube.bands:
        raise c.invalid("target_band", f"a band named {target!r} already exists")
    bands = None if cube.bands is None else (*cube.bands, target)
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=bands)


def _ndvi(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    data = args["data"]
    red, nir = band_name(data, args["red"]), band_name(data, args["nir"])
    target = args["target_band"]
    cube = as_cube(data, ctx, None if target else tuple(dict.fromkeys((red, nir))))
    r = cube.data[:, cube.bands.index(red)]
    n = cube.data[:, cube.bands.index(nir)]
    raw_r = np.ma.getdata(r).astype(np.float32, copy=False)
    raw_n = np.ma.getdata(n).astype(np.float32, copy=False)
    nd = numexpr.evaluate("(n - r) / (n + r)", local_dict={"n": raw_n, "r": raw_r})
    out = _finish(nd, np.ma.getmaskarray(r) | np.ma.getmaskarray(n))[:, None]
    if not target:
        return cube.with_data(out, bands=("ndvi",))
    if target in cube.bands:
        raise ArgumentInvalid(f"ndvi: a band named {target!r} already exists")
    joined = np.ma.MaskedArray(
        np.concatenate([np.ma.getdata(cube.data), np.ma.getdata(out)], axis=1),
        mask=np.concatenate([np.ma.getmaskarray(cube.data), np.ma.getmaskarray(out)], axis=1),
    )
    return cube.with_data(joined,
                          bands=(*cube.bands, target))


NDVI = Process(
    id="ndvi",
    aliases=("NDVI",),
    summary="Normalized Difference Vegetation Index",
    description=(
        "(nir - red) / (nir + red) per pixel and date, as float32; where nir + red is 0 "
        "or either band has no data, the result is no-data. Only the red and nir bands "
        "are read. `red` and `nir` are band names, band ids or common names (default "
        "`red` / `nir`). Without `target_band` the result has one band `ndvi`; with it, "
        "the NDVI is appended to all bands under that name."
    ),
    parameters=(
        DATA,
        Parameter("nir", "The near-infrared band.", BAND_SCHEMA, required=False, default="nir"),
        Parameter("red", "The red band.", BAND_SCHEMA, required=False, default="red"),
        Parameter("target_band", "Name of a band to append the NDVI as, or null.",
                  {"type": ["string", "null"]}, required=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_ndvi,
    check=_ndvi_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "math > indices"),
)


# --------------------------------------------------------------------------- band_math


def _band_math_check(c: Check) -> ValueType:
    cube = c.cube()
    try:
        expressions = parse_expressions(c.literal("expression"))
    except ArgumentInvalid as exc:
        raise c.invalid("expression", exc.message) from None
    for expr in expressions:
        for name in expr.names:
            resolve_band_type(c, "expression", name, cube)
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=tuple(e.text for e in expressions))


def _band_math(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    data = args["data"]
    expressions = parse_expressions(args["expression"])
    names = {n: band_name(data, n) for e in expressions for n in e.names}
    cube = as_cube(data, ctx, tuple(dict.fromkeys(names.values())))
    outputs = []
    for expr in expressions:
        arrays = {n: np.ma.getdata(cube.data[:, cube.bands.index(b)]) for n, b in names.items()
                  if n in expr.names}
        mask = np.zeros((cube.data.shape[0], *cube.data.shape[2:]), dtype=bool)
        for n in expr.names:
            mask |= np.ma.getmaskarray(cube.data[:, cube.bands.index(names[n])])
        value = np.broadcast_to(expr.evaluate(arrays), mask.shape)
        outputs.append(_finish(value.astype(np.float64), mask))
    return cube.with_data(np.ma.stack(outputs, axis=1), bands=tuple(e.text for e in expressions))


BAND_MATH = Process(
    id="band_math",
    summary="Band math expression",
    description=(
        "Evaluates an arithmetic expression over band names per pixel with numexpr, e.g. "
        "`(B08 - B04) / (B08 + B04)`. Allowed: band names (or common names), numbers, "
        "+ - * / ** (constant exponent up to 16), comparisons, & | ~ on conditions (e.g. "
        "`(B04 > 0.2) & (B08 < 0.5)`), where(condition, a, b), abs sqrt exp log log10 log1p "
        "sin cos tan and their inverses; numbers up to 1e38. Several expressions "
        "separated by `;` give one float32 band each (named by the expression). No-data "
        "in any band read gives no-data; infinite or undefined results are no-data."
    ),
    parameters=(
        DATA,
        Parameter("expression", "The expression(s), `;`-separated.", {"type": "string"}),
    ),
    returns=CUBE_RETURNS,
    implementation=_band_math,
    check=_band_math_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "math"),
)


# --------------------------------------------------------------------------- mask


def _classes(value: Any, where: str) -> frozenset[int]:
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
    ):
        raise ArgumentInvalid(f"{where}: expected a non-empty list of integer classes, got "
                              f"{value!r}")
    return frozenset(value)


def _mask_check(c: Check) -> ValueType:
    cube = c.cube()
    has_mask = c.args.get("mask") is not None
    has_classes = c.args.get("scl_classes") is not None
    if has_mask == has_classes:
        raise c.invalid("mask", "give exactly one of 'mask' (a cube) and 'scl_classes'")
    replacement = c.literal("replacement")
    if replacement is not None:
        c.number("replacement")
    if has_classes:
        _classes(c.literal("scl_classes"), f"{c.where}: argument 'scl_classes'")
        if cube.collection is None:
            raise c.invalid("scl_classes", "masking by classes needs the collection's data; "
                            "apply mask before computing on the cube")
        band = c.literal("scl_band")
        if not isinstance(band, str):
            raise c.invalid("scl_band", f"expected a band name, got {band!r}")
        try:
            cube.collection.band(band)
        except BandNotFound as exc:
            raise BandNotFound(f"{c.where}: argument 'scl_band': {exc.message}") from None
    else:
        m = c.type_of("mask")
        if m.kind != RASTER_CUBE:
            raise c.invalid("mask", f"expected a raster cube, got {m.describe()}")
        if m.has_time and not cube.has_time:
            raise c.invalid("mask", "the mask has a time dimension but the data has none")
    if replacement is not None:
        return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=cube.bands)
    return cube


def _mask(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView | Cube:
    data = args["data"]
    if args.get("scl_classes") is not None:
        if not isinstance(data, CollectionView):
            raise ArgumentInvalid("mask: scl_classes needs the collection's data, not a cube")
        classes = _classes(args["scl_classes"], "mask scl_classes")
        spec: ClassMask | CubeMask = ClassMask(data.collection.band(args["scl_band"]).name,
                                               classes)
    else:
        spec = CubeMask(as_cube(args["mask"], ctx))
    replacement = args.get("replacement")
    if replacement is None:
        if isinstance(data, CollectionView):
            return data.with_mask(spec)
        cube = as_cube(data, ctx)
        hit = cube_mask(spec.cube, cube) if isinstance(spec, CubeMask) else None
        if hit is None:
            raise ArgumentInvalid("mask: scl_classes needs the collection's data, not a cube")
        mask = np.ma.getmaskarray(cube.data) | hit
        return cube.with_data(np.ma.MaskedArray(np.ma.getdata(cube.data), mask=mask))
    wanted = data.band_names if isinstance(data, CollectionView) else None
    if isinstance(spec, ClassMask) and isinstance(data, CollectionView):
        full = as_cube(data, ctx, tuple(dict.fromkeys((*data.band_names, spec.band))))
        hit = np.broadcast_to(spec.apply(full), full.data.shape)
        idx = [full.bands.index(b) for b in data.band_names]
        cube, hit = full.with_data(full.data[:, idx], bands=data.band_names), hit[:, idx]
    else:
        assert isinstance(spec, CubeMask)
        cube = as_cube(data, ctx, wanted)
        hit = cube_mask(spec.cube, cube)
    raw = np.where(hit, np.float32(float(replacement)), np.ma.getdata(cube.data))
    mask = np.ma.getmaskarray(cube.data) & ~hit
    return cube.with_data(np.ma.MaskedArray(raw.astype(cube.data.dtype), mask=mask))


MASK = Process(
    id="mask",
    summary="Apply a mask",
    description=(
        "Masks pixels of `data`: either where the one-band (or same-bands) cube `mask` is "
        "non-zero / true or has no data, or where the collection's classification band "
        "`scl_band` (default `SCL`) has one of `scl_classes` (e.g. [3, 8, 9, 10]: cloud "
        "shadow, clouds, cirrus) or has no data. Masked pixels become no-data, or "
        "`replacement` when given. Masking a collection view stays lazy: the class band "
        "is read together with the bands a later process needs."
    ),
    parameters=(
        DATA,
        Parameter("mask", "A mask cube: non-zero / true masks.",
                  {"anyOf": [CUBE_SCHEMA, {"type": "null"}]}, required=False),
        Parameter("scl_classes", "Classes of the classification band to mask.",
                  {"type": ["array", "null"], "items": {"type": "integer"}}, required=False),
        Parameter("scl_band", "The classification band.", {"type": "string"},
                  required=False, default="SCL"),
        Parameter("replacement", "Value for masked pixels (null: no-data).",
                  {"type": ["number", "null"]}, required=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_mask,
    check=_mask_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "masks"),
)

PROCESSES = (NDVI, BAND_MATH, MASK)
