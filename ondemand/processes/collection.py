"""Loading and filtering collections: load_collection, filter_bbox, filter_temporal, filter_bands.

All four return a lazy :class:`CollectionView` when given one (nothing is read);
given an already computed cube, they mask / select on it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from ..cube import Cube
from ..errors import ArgumentInvalid, ArgumentMissing, CollectionNotFound
from ..window import Bounds
from .context import CollectionView, EvalContext, select_bands
from .params import (
    BANDS_SCHEMA,
    BBOX_SCHEMA,
    CUBE_RETURNS,
    DATA,
    DATA_LEGACY,
    INTERVAL_SCHEMA,
    band_refs,
    bbox_from,
    exclusive_end,
    interval_from,
    normalize_bbox,
    resolve_band_type,
)
from .properties import PROPERTIES, check_properties, filter_items
from .registry import Parameter, Process
from .spatial import check_polygons, is_geojson, polygons, restrict
from .types import RASTER_CUBE, Check, CollectionLike, ValueType

_DATE_NOTE = (
    " Dates are ISO 8601 dates or datetimes (naive ones are UTC); both ends are "
    "inclusive, and a date-only end means that whole day (`2017-01-31` includes "
    "2017-01-31T23:59:59Z). Through the openEO 1.x API the end is excluded, as 1.x "
    "defines it (`[\"2017-01-01\", \"2017-02-01\"]` is January)."
)
_BBOX_NOTE = (
    " The bbox is `{west, south, east, north, crs}` (crs defaults to EPSG:4326); "
    "south and north are put in order if swapped, west must be less than east."
)


# --------------------------------------------------------------------------- load_collection


def _load_check(c: Check) -> ValueType:
    cid = c.literal("id")
    if not isinstance(cid, str) or not cid:
        raise c.invalid("id", f"expected a collection id, got {cid!r}")
    try:
        coll = c.catalog.get(cid)
    except CollectionNotFound as exc:
        raise CollectionNotFound(f"{c.where}: argument 'id': {exc.message}") from None
    return check_narrowing(c, coll)


def check_narrowing(c: Check, coll: CollectionLike) -> ValueType:
    """Validate the extents, properties and bands of a load of ``coll``; its cube type."""
    extent = c.literal("spatial_extent")
    if is_geojson(extent):
        check_polygons(c, "spatial_extent")
    elif extent is not None:
        bbox_from(extent, f"{c.where}: argument 'spatial_extent'")
    check_properties(c)
    if c.literal("temporal_extent") is not None:
        interval_from(c.literal("temporal_extent"), f"{c.where}: argument 'temporal_extent'")
    cube = ValueType(RASTER_CUBE, has_time=True, collection=coll,
                     bands=tuple(b.name for b in coll.bands))
    if c.literal("bands") is None:
        return cube
    refs = band_refs(c.literal("bands"), f"{c.where}: argument 'bands'")
    names = tuple(dict.fromkeys(resolve_band_type(c, "bands", r, cube) for r in refs))
    return ValueType(RASTER_CUBE, has_time=True, collection=coll, bands=names)


def _load(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView:
    return narrow(CollectionView(ctx.catalog.get(args["id"])), args, ctx, "load_collection")


def narrow(
    view: CollectionView, args: Mapping[str, Any], ctx: EvalContext, where: str
) -> CollectionView:
    """Apply a load's properties, spatial and temporal extents and bands to ``view``."""
    if args.get("properties"):
        view = filter_items(view, args["properties"])
    extent = args.get("spatial_extent")
    if is_geojson(extent):
        view = restrict(view, polygons(extent, f"{where} spatial_extent"), ctx)
    elif extent is not None:
        view = view.with_bbox(*bbox_from(extent, f"{where} spatial_extent"))
    if args.get("temporal_extent") is not None:
        view = view.with_dates(*interval_from(args["temporal_extent"], f"{where} temporal_extent"))
    if args.get("bands") is not None:
        refs = band_refs(args["bands"], f"{where} bands")
        view = view.with_bands(tuple(dict.fromkeys(view.band(r) for r in refs)))
    return view


def load_normalize(node_id: str, args: dict[str, Any]) -> dict[str, Any]:
    """Tolerantly tidy a load's bbox (not GeoJSON) and make one band a list."""
    if "spatial_extent" in args and not is_geojson(args["spatial_extent"]):
        args["spatial_extent"] = normalize_bbox(args["spatial_extent"])
    if isinstance(args.get("bands"), str | int):
        args["bands"] = (args["bands"],)
    return args


LOAD_COLLECTION = Process(
    id="load_collection",
    aliases=("get_data",),
    summary="Load a collection",
    description=(
        "Selects a collection of the catalog, optionally narrowed by bounding box, "
        "dates and bands. Nothing is read until a process needs pixels; the draft's "
        "`get_data` with `data_id` and the image collection literal `{\"product_id\": ...}` "
        "are this process." + _BBOX_NOTE + _DATE_NOTE
    ),
    parameters=(
        Parameter("id", "The collection id.", {"type": "string", "subtype": "collection-id"}),
        Parameter("spatial_extent", "Bounding box or GeoJSON polygons to limit the data to, "
                  "or null.", [BBOX_SCHEMA, {"type": "object", "subtype": "geojson"},
                               {"type": "null"}], required=False),
        Parameter("temporal_extent", "Date interval [start, end] to limit the data to, or null.",
                  [INTERVAL_SCHEMA, {"type": "null"}], required=False),
        Parameter("bands", "Bands (names, band ids or common names) to load, or null for all.",
                  [BANDS_SCHEMA, {"type": "null"}], required=False),
        PROPERTIES,
    ),
    returns=CUBE_RETURNS,
    implementation=_load,
    check=_load_check,
    legacy={"data_id": "id", "product_id": "id"},
    normalize=load_normalize,
    openeo_normalize=lambda node_id, args: exclusive(args, "temporal_extent"),
    categories=("cubes", "import"),
)


def exclusive(args: dict[str, Any], name: str) -> dict[str, Any]:
    """openEO 1.x: the interval's end is excluded; make it the canonical inclusive end."""
    if args.get(name) is not None:
        args[name] = exclusive_end(args[name])
    return args


# --------------------------------------------------------------------------- filter_bbox

_DRAFT_BBOX = {"left": "west", "right": "east", "top": "north", "bottom": "south"}


def _bbox_normalize(node_id: str, args: dict[str, Any]) -> dict[str, Any]:
    given = [k for k in (*_DRAFT_BBOX, "srs") if k in args]
    if given:
        if "extent" in args:
            raise ArgumentInvalid(
                f"Node {node_id!r} (filter_bbox): give either 'extent' or the draft's "
                f"left/right/top/bottom/srs, not both (got {given})"
            )
        for key in _DRAFT_BBOX:
            if key not in args:
                raise ArgumentMissing(
                    f"Node {node_id!r} (filter_bbox): argument {key!r} is missing"
                )
        extent = {new: args.pop(old) for old, new in _DRAFT_BBOX.items()}
        if "srs" in args:
            extent["crs"] = args.pop("srs")
        args["extent"] = extent
    if "extent" in args:
        args["extent"] = normalize_bbox(args["extent"])
    return args


def _bbox_check(c: Check) -> ValueType:
    cube = c.cube()
    bbox_from(c.literal("extent"), f"{c.where}: argument 'extent'")
    return cube


def _bbox(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView | Cube:
    bounds, crs = bbox_from(args["extent"], "filter_bbox extent")
    data = args["data"]
    if isinstance(data, CollectionView):
        return data.with_bbox(bounds, crs)
    if isinstance(data, Cube):
        return mask_outside(data, bounds, crs)
    raise ArgumentInvalid(f"filter_bbox: expected a raster cube, got {data!r}")


def mask_outside(cube: Cube, bounds: Bounds, crs: CRS) -> Cube:
    """Mask the cube's pixels whose centres lie outside ``bounds`` (in ``crs``)."""
    if crs != cube.crs:
        bounds = transform_bounds(crs, cube.crs, *bounds, densify_pts=21)
    t = cube.transform
    cols = np.arange(cube.width) + 0.5
    rows = np.arange(cube.height) + 0.5
    xs = t.c + cols * t.a
    ys = t.f + rows * t.e
    inside = (
        ((ys >= bounds[1]) & (ys <= bounds[3]))[:, None]
        & ((xs >= bounds[0]) & (xs <= bounds[2]))[None, :]
    )
    mask = np.ma.getmaskarray(cube.data) | ~inside
    return cube.with_data(np.ma.MaskedArray(np.ma.getdata(cube.data), mask=mask))


FILTER_BBOX = Process(
    id="filter_bbox",
    summary="Spatial filter using a bounding box",
    description=(
        "Drops observations outside a bounding box. The draft's `left`, `right`, "
        "`top`, `bottom` and `srs` are accepted and become `extent`." + _BBOX_NOTE
    ),
    parameters=(DATA, Parameter("extent", "The bounding box.", BBOX_SCHEMA)),
    returns=CUBE_RETURNS,
    implementation=_bbox,
    check=_bbox_check,
    legacy=DATA_LEGACY,
    normalize=_bbox_normalize,
    draft_args={
        "left": "Left boundary (longitude / easting): `extent.west`.",
        "right": "Right boundary (longitude / easting): `extent.east`.",
        "top": "Top boundary (latitude / northing): `extent.north`.",
        "bottom": "Bottom boundary (latitude / northing): `extent.south`.",
        "srs": "CRS of the boundaries (EPSG:12345 or proj string): `extent.crs`.",
    },
    categories=("cubes", "filter"),
)


# --------------------------------------------------------------------------- filter_temporal


def _temporal_normalize(node_id: str, args: dict[str, Any]) -> dict[str, Any]:
    if "from" in args or "to" in args:
        if "extent" in args:
            raise ArgumentInvalid(
                f"Node {node_id!r} (filter_temporal): give either 'extent' or the draft's "
                "from/to, not both"
            )
        args["extent"] = (args.pop("from", None), args.pop("to", None))
    return args


def _temporal_check(c: Check) -> ValueType:
    cube = c.timed_cube()
    interval_from(c.literal("extent"), f"{c.where}: argument 'extent'")
    c.time_dimension()
    return cube


def _temporal(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView | Cube:
    start, end = interval_from(args["extent"], "filter_temporal extent")
    data = args["data"]
    if isinstance(data, CollectionView):
        return data.with_dates(start, end)
    if isinstance(data, Cube) and data.times is not None:
        return select_times(data, start, end)
    raise ArgumentInvalid(f"filter_temporal: expected a raster cube with time, got {data!r}")


def select_times(cube: Cube, start: datetime | None, end: datetime | None) -> Cube:
    """The time steps of ``cube`` within ``[start, end]`` (inclusive)."""
    assert cube.times is not None
    keep = [
        i for i, t in enumerate(cube.times)
        if (start is None or _aware(t) >= start) and (end is None or _aware(t) <= end)
    ]
    return cube.with_data(cube.data[keep], times=tuple(cube.times[i] for i in keep))


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


FILTER_TEMPORAL = Process(
    id="filter_temporal",
    aliases=("filter_daterange",),
    summary="Temporal filter based on a date interval",
    description=(
        "Drops observations dated outside `extent` = [start, end]. The draft's "
        "`filter_daterange` with `from` / `to` is this process; either end may be null "
        "(open), not both." + _DATE_NOTE
    ),
    parameters=(DATA, Parameter("extent", "[start, end] dates.", INTERVAL_SCHEMA),
                Parameter("dimension", "The temporal dimension: null or 't'.",
                          {"type": ["string", "null"]}, required=False)),
    returns=CUBE_RETURNS,
    implementation=_temporal,
    check=_temporal_check,
    legacy=DATA_LEGACY,
    normalize=_temporal_normalize,
    openeo_normalize=lambda node_id, args: exclusive(args, "extent"),
    draft_args={"from": "Start date: `extent[0]`.", "to": "End date (inclusive): `extent[1]`."},
    categories=("cubes", "filter"),
)


# --------------------------------------------------------------------------- filter_bands


def _bands_normalize(node_id: str, args: dict[str, Any]) -> dict[str, Any]:
    if "names" in args:
        if "bands" in args:
            raise ArgumentInvalid(
                f"Node {node_id!r} (filter_bands): give either 'bands' or 'names', not both"
            )
        args["bands"] = args.pop("names")
    if isinstance(args.get("bands"), str | int) and not isinstance(args.get("bands"), bool):
        args["bands"] = (args["bands"],)
    return args


def _bands_check(c: Check) -> ValueType:
    cube = c.cube()
    refs = band_refs(c.literal("bands"), f"{c.where}: argument 'bands'")
    names = tuple(dict.fromkeys(resolve_band_type(c, "bands", r, cube) for r in refs))
    return ValueType(RASTER_CUBE, has_time=cube.has_time, bands=names,
                     collection=cube.collection)


def _bands(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView | Cube:
    refs = band_refs(args["bands"], "filter_bands bands")
    data = args["data"]
    if isinstance(data, CollectionView):
        return data.with_bands(tuple(dict.fromkeys(data.band(r) for r in refs)))
    if isinstance(data, Cube):
        return select_bands(data, tuple(dict.fromkeys(str(r) for r in refs)))
    raise ArgumentInvalid(f"filter_bands: expected a raster cube, got {data!r}")


FILTER_BANDS = Process(
    id="filter_bands",
    summary="Filter the bands by name",
    description=(
        "Keeps the listed bands, in that order. A band is given by name (`B04`), band id "
        "(`4`, or the number 4), or common name (`red`). The draft's `names` is accepted "
        "as `bands`; a single value is a one-element list. Wavelength filters are not "
        "supported."
    ),
    parameters=(DATA, Parameter("bands", "Band names, band ids or common names.",
                                BANDS_SCHEMA, required=False)),
    returns=CUBE_RETURNS,
    implementation=_bands,
    check=_bands_check,
    legacy=DATA_LEGACY,
    normalize=_bands_normalize,
    categories=("cubes", "filter"),
)

PROCESSES = (LOAD_COLLECTION, FILTER_BBOX, FILTER_TEMPORAL, FILTER_BANDS)
