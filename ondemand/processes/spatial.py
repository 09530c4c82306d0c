"""Polygons: filter_spatial, mask_polygon and GeoJSON extents of load_collection.

A pixel is inside a polygon when its centre is (the rule of openEO, GDAL and the
zonal statistics). On a collection view both stay lazy: the polygons' bounding box
narrows the read and a :class:`PolygonMask` is applied to whatever is read later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely

from ..errors import ArgumentInvalid, OnDemandError
from .context import CollectionView, EvalContext, PolygonMask, as_cube
from .params import CUBE_RETURNS, DATA
from .registry import Parameter, Process
from .types import RASTER_CUBE, Check, ValueType
from .zonal.regions import Regions, load_regions

GEOJSON_SCHEMA: Mapping[str, Any] = {"type": "object", "subtype": "geojson"}


def polygons_parameter(name: str) -> Parameter:
    """A parameter taking polygons: GeoJSON, or the path of a polygon file in the user's files.

    Checked by :func:`check_polygons`, read by :func:`polygons`.
    """
    return Parameter(name, "Polygons as GeoJSON (or a file path).",
                     [GEOJSON_SCHEMA, {"type": "string", "subtype": "file-path"}])


def is_geojson(value: Any) -> bool:
    """Whether a spatial extent is GeoJSON (it has a ``type``) rather than a bounding box."""
    return isinstance(value, Mapping) and "type" in value


def polygons(value: Any, where: str, ctx: Any = None) -> Regions:
    """Polygons from inline GeoJSON (or, with a context holding user files, a file path)."""
    try:
        return load_regions(value, getattr(ctx, "user_files", None))
    except OnDemandError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None


def check_polygons(c: Check, name: str) -> None:
    """Validation: inline GeoJSON must parse; a path is read at evaluation."""
    value = c.literal(name)
    if isinstance(value, str) and value.strip():
        return
    if not is_geojson(value):
        raise c.invalid(name, f"expected GeoJSON with polygons, got {value!r}")
    polygons(value, f"{c.where}: argument {name!r}")


def restrict(data: Any, regions: Regions, ctx: EvalContext, *, inside: bool = False) -> Any:
    """Mask ``data`` outside (or inside) ``regions``; a view stays lazy (and bbox-narrowed)."""
    mask = PolygonMask(regions.geometries, regions.crs, inside=inside)
    if isinstance(data, CollectionView):
        if not inside:
            left, bottom, right, top = shapely.total_bounds(regions.geometries)
            data = data.with_bbox((float(left), float(bottom), float(right), float(top)),
                                  regions.crs)
        return data.with_mask(mask)
    cube = as_cube(data, ctx)
    hit = np.ma.getmaskarray(cube.data) | mask.apply(cube)
    return cube.with_data(np.ma.MaskedArray(np.ma.getdata(cube.data), mask=hit))


def _filter_check(c: Check) -> ValueType:
    cube = c.cube()
    check_polygons(c, "geometries")
    return cube


def _filter_spatial(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    regions = polygons(args["geometries"], "filter_spatial geometries", ctx)
    return restrict(args["data"], regions, ctx)


FILTER_SPATIAL = Process(
    id="filter_spatial",
    summary="Spatial filter using geometries",
    description="Keeps the pixels whose centre lies in one of the polygons (GeoJSON Polygon, "
                "MultiPolygon, Feature or FeatureCollection; or a path in your files); the "
                "read is limited to their bounding box and every other pixel is no-data.",
    parameters=(DATA, polygons_parameter("geometries")),
    returns=CUBE_RETURNS,
    implementation=_filter_spatial,
    check=_filter_check,
    categories=("cubes", "filter"),
)


def _mask_check(c: Check) -> ValueType:
    cube = c.cube()
    check_polygons(c, "mask")
    replacement = c.literal("replacement")
    if replacement is not None:
        c.number("replacement")
    if not isinstance(c.literal("inside"), bool):
        raise c.invalid("inside", "expected true or false")
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=cube.bands,
                     collection=cube.collection if replacement is None else None)


def _mask_polygon(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    regions = polygons(args["mask"], "mask_polygon mask", ctx)
    inside = bool(args["inside"])
    replacement = args["replacement"]
    if replacement is None:
        return restrict(args["data"], regions, ctx, inside=inside)
    cube = as_cube(args["data"], ctx)
    hit = np.broadcast_to(
        PolygonMask(regions.geometries, regions.crs, inside=inside).apply(cube), cube.data.shape)
    valid = ~np.ma.getmaskarray(cube.data)
    replace = hit & valid
    if isinstance(replacement, bool) or not isinstance(replacement, int | float):
        raise ArgumentInvalid(f"mask_polygon: replacement must be a number, got {replacement!r}")
    raw = np.where(replace, np.float32(replacement), np.ma.getdata(cube.data))
    return cube.with_data(np.ma.MaskedArray(raw.astype(cube.data.dtype),
                                            mask=np.ma.getmaskarray(cube.data)))


MASK_POLYGON = Process(
    id="mask_polygon",
    summary="Apply a polygon mask",
    description="Masks the pixels whose centre lies outside all polygons (inside them with "
                "`inside: true`): they become no-data, or `replacement` when given. No-data "
                "pixels stay no-data. Polygons are GeoJSON (or a path in your files), "
                "reprojected to the cube's CRS.",
    parameters=(
        DATA,
        polygons_parameter("mask"),
        Parameter("replacement", "Value for masked pixels (null: no-data).",
                  {"type": ["number", "null"]}, required=False),
        Parameter("inside", "Mask the pixels inside the polygons instead.",
                  {"type": "boolean"}, required=False, default=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_mask_polygon,
    check=_mask_check,
    categories=("cubes", "masks"),
)

PROCESSES = (FILTER_SPATIAL, MASK_POLYGON)

