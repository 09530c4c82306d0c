"""resample_spatial and resample_cube_spatial: warp a cube onto another grid with GDAL.

The cube as read (on the request's grid, the native one for downloads) is warped
once with ``rasterio.warp.reproject``; no-data stays no-data (it never enters an
average) and pixels no source pixel covers are no-data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ..cube import Cube
from ..errors import ArgumentInvalid, InvalidCRS
from ..graph import Graph
from ..window import Window, parse_crs
from .context import EvalContext, as_cube
from .params import CUBE_RETURNS, CUBE_SCHEMA, DATA
from .registry import Parameter, Process
from .types import RASTER_CUBE, Check, ValueType
from .walk import reachable

METHODS: Mapping[str, Resampling] = {
    "near": Resampling.nearest, "bilinear": Resampling.bilinear, "cubic": Resampling.cubic,
    "cubicspline": Resampling.cubic_spline, "lanczos": Resampling.lanczos,
    "average": Resampling.average, "mode": Resampling.mode, "max": Resampling.max,
    "min": Resampling.min, "med": Resampling.med, "q1": Resampling.q1, "q3": Resampling.q3,
    "sum": Resampling.sum, "rms": Resampling.rms,
}
"""openEO method names (gdalwarp's) -> rasterio resampling."""
METHOD = Parameter("method", "Resampling method (gdalwarp's names).",
                   {"type": "string", "enum": list(METHODS)}, required=False, default="near")


def warp(cube: Cube, crs: CRS, transform: Affine, shape: tuple[int, int], method: str) -> Cube:
    """``cube`` on the grid (``crs``, ``transform``, ``shape``) by ``method``."""
    if (cube.crs, cube.transform, (cube.height, cube.width)) == (crs, transform, shape):
        return cube
    source = np.ma.getdata(cube.data).astype(np.float32)
    source = np.where(np.ma.getmaskarray(cube.data), np.float32(np.nan), source)
    n_t, n_b = cube.data.shape[:2]
    out = np.full((n_t, n_b, *shape), np.nan, np.float32)
    for t in range(n_t):
        for b in range(n_b):
            reproject(source[t, b], out[t, b], src_transform=cube.transform, src_crs=cube.crs,
                      src_nodata=np.nan, dst_transform=transform, dst_crs=crs,
                      dst_nodata=np.nan, resampling=METHODS[method])
    mask = ~np.isfinite(out)
    data = np.ma.MaskedArray(np.where(mask, np.float32(0), out), mask=mask)
    return Cube(data, cube.times, cube.bands, crs, transform)


def _has_resolution(cube: Cube, resolution: tuple[float, float]) -> bool:
    return bool(np.isclose(abs(cube.transform.a), resolution[0], rtol=1e-9)
                and np.isclose(abs(cube.transform.e), resolution[1], rtol=1e-9))


def planned_grid(graph: Graph) -> tuple[str | None, tuple[float, float] | None]:
    """``(crs, resolution)`` a download of ``graph`` should be read at, from its resample_spatial.

    When the graph resamples exactly once (literal arguments), reading the data at that
    CRS and pixel size makes the download's grid the asked one, read once (through
    overviews when coarser) instead of read natively and warped again.
    """
    nodes = [graph.nodes[n] for n in reachable(graph)
             if graph.nodes[n].process_id == "resample_spatial"]
    if len(nodes) != 1:
        return None, None
    args = nodes[0].arguments
    try:
        resolution = _resolution(args.get("resolution", 0), "resample_spatial")
        crs = _projection(args.get("projection"), "resample_spatial")
    except (ArgumentInvalid, InvalidCRS):
        return None, None
    return (None if crs is None else crs.to_string()), resolution


def fit_to_window(result: Any, window: Window) -> Any:
    """A cube on another grid than ``window``'s (after resample_spatial), warped onto it.

    Tiles, coverages and point queries are defined by their window; downloads are not
    (their window comes from the graph) and do not call this.
    """
    if not isinstance(result, Cube):
        return result
    method = {"nearest": "near"}.get(window.resampling, window.resampling)
    return warp(result, window.crs, window.transform, (window.height, window.width),
                method if method in METHODS else "near")


def _resolution(value: Any, where: str) -> tuple[float, float] | None:
    """``0`` (keep), a number or ``[x, y]`` (positive) -> ``(x, y)`` or None."""
    pair = list(value) if isinstance(value, list | tuple) else [value, value]
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0
                             for v in pair):
        raise ArgumentInvalid(f"{where}: argument 'resolution': expected 0, a positive number "
                              f"or [x, y], got {value!r}")
    if pair[0] == 0 and pair[1] == 0:
        return None
    if pair[0] == 0 or pair[1] == 0:
        raise ArgumentInvalid(f"{where}: argument 'resolution': both sizes must be positive")
    return float(pair[0]), float(pair[1])


def _projection(value: Any, where: str) -> CRS | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ArgumentInvalid(f"{where}: argument 'projection': expected an EPSG code or WKT2, "
                              f"got {value!r}")
    try:
        return parse_crs(value)
    except InvalidCRS as exc:
        raise InvalidCRS(f"{where}: argument 'projection': {exc.message}") from None


def _resample_check(c: Check) -> ValueType:
    cube = c.cube()
    _resolution(c.literal("resolution"), c.where)
    _projection(c.literal("projection"), c.where)
    if c.literal("method") not in METHODS:
        raise c.invalid("method", f"expected one of {', '.join(METHODS)}, got "
                        f"{c.literal('method')!r}")
    if c.literal("align") != "upper-left":
        raise c.invalid("align", "only 'upper-left' is supported")
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=cube.bands)


def _resample_spatial(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube = as_cube(args["data"], ctx)
    resolution = _resolution(args["resolution"], "resample_spatial")
    crs = _projection(args["projection"], "resample_spatial") or cube.crs
    if crs == cube.crs and (resolution is None or _has_resolution(cube, resolution)):
        return cube  # already on a grid of this CRS and pixel size (a planned download)
    left, top = cube.transform.c, cube.transform.f
    right = left + cube.transform.a * cube.width
    bottom = top + cube.transform.e * cube.height
    transform, width, height = calculate_default_transform(
        cube.crs, crs, cube.width, cube.height, left, bottom, right, top, resolution=resolution)
    assert width is not None and height is not None
    return warp(cube, crs, transform, (int(height), int(width)), args["method"])


RESAMPLE_SPATIAL = Process(
    id="resample_spatial",
    summary="Resample and warp the spatial dimensions",
    description="Warps the cube to `projection` (EPSG code or WKT2; null keeps the CRS) "
                "and/or `resolution` (in the target CRS's units; 0 keeps it) with `method` "
                "(near, bilinear, cubic, average, mode, min, max, med, ...), over the cube's "
                "extent, aligned at its upper-left corner.",
    parameters=(
        DATA,
        Parameter("resolution", "Target pixel size: a number or [x, y]; 0 keeps it.",
                  [{"type": "number", "minimum": 0},
                   {"type": "array", "minItems": 2, "maxItems": 2,
                    "items": {"type": "number"}}], required=False, default=0),
        Parameter("projection", "Target CRS: EPSG code, WKT2 or PROJ string, or null.",
                  [{"type": "integer", "subtype": "epsg-code", "minimum": 1000},
                   {"type": "string", "subtype": "wkt2-definition"},
                   {"type": "string", "subtype": "proj-definition"},
                   {"type": "null"}], required=False),
        METHOD,
        Parameter("align", "Corner the new grid is aligned to.", {"type": "string",
                                                                  "enum": ["upper-left"]},
                  required=False, default="upper-left"),
    ),
    returns=CUBE_RETURNS,
    implementation=_resample_spatial,
    check=_resample_check,
    categories=("cubes", "aggregate & resample"),
)


def _cube_check(c: Check) -> ValueType:
    cube = c.cube()
    c.cube("target")
    if c.literal("method") not in METHODS:
        raise c.invalid("method", f"expected one of {', '.join(METHODS)}, got "
                        f"{c.literal('method')!r}")
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=cube.bands)


def _resample_cube(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube, target = as_cube(args["data"], ctx), as_cube(args["target"], ctx)
    return warp(cube, target.crs, target.transform, (target.height, target.width),
                args["method"])


RESAMPLE_CUBE_SPATIAL = Process(
    id="resample_cube_spatial",
    summary="Resample the spatial dimensions to match a target data cube",
    description="Warps `data` onto the grid (CRS, pixel size, extent) of `target` with "
                "`method`, e.g. before `merge_cubes` of cubes on different grids.",
    parameters=(DATA, Parameter("target", "The cube whose grid to use.", CUBE_SCHEMA), METHOD),
    returns=CUBE_RETURNS,
    implementation=_resample_cube,
    check=_cube_check,
    categories=("cubes", "aggregate & resample"),
)

PROCESSES = (RESAMPLE_SPATIAL, RESAMPLE_CUBE_SPATIAL)
