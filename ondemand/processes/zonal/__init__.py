"""zonal_statistics: a statistic of the pixels under each polygon, per date and band.

The declaration lives here; :mod:`.stats` computes the statistics and :mod:`.regions`
reads the polygons (user files or inline GeoJSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ArgumentInvalid
from ..context import EvalContext
from ..params import DATA, DATA_LEGACY
from ..registry import Parameter, Process
from ..types import TABLE, Check, ValueType
from .regions import load_regions
from .stats import FUNCS, func_name, zonal_statistics


def _check(c: Check) -> ValueType:
    c.cube()
    regions = c.literal("regions")
    if isinstance(regions, str):
        if not regions.strip():
            raise c.invalid("regions", "expected a file path or a folder, got an empty string")
    elif not isinstance(regions, Mapping) or "type" not in regions:
        raise c.invalid("regions", "expected a user-file path such as '/users/me/files/' or "
                        f"an inline GeoJSON object, got {regions!r}")
    try:
        func_name(c.literal("func"))
    except ArgumentInvalid as exc:
        raise c.invalid("func", exc.message) from None
    if not isinstance(c.literal("all_touched"), bool):
        raise c.invalid("all_touched", "expected true or false")
    return ValueType(TABLE)


def _zonal(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    func = func_name(args["func"])
    _ = ctx.window  # planning stops here, before any file is read
    regions = load_regions(args["regions"], ctx.user_files)
    return zonal_statistics(args["data"], regions, func, bool(args["all_touched"]), ctx)


ZONAL_STATISTICS = Process(
    id="zonal_statistics",
    summary="Zonal statistics per polygon and date",
    description=(
        "Computes `func` of the pixels under each polygon of `regions`, for every date and "
        "band: a long table with one row per region and date (GeoPackage, GeoJSON, CSV or "
        "JSON). `regions` is a path in your files (`/users/me/files/fields.geojson`; a "
        "GeoJSON, a GeoPackage or a zipped Shapefile), a folder (`/users/me/files/`: every "
        "polygon file in it) or inline GeoJSON. Polygons are reprojected to the raster's "
        "CRS. A pixel counts when its centre is inside the polygon (every touched pixel "
        "with `all_touched`); no-data and masked pixels never count, and a polygon without "
        "a valid pixel gives null (count: 0). Collection data is read on each item's own "
        "pixel grid, without resampling, only under the polygons; on a day with several "
        "items a ground point comes from the first item with a valid pixel there. "
        f"Statistics: avg (= mean), {', '.join(FUNCS[1:])} (q25/q75: quartiles, linear "
        "interpolation; std: population standard deviation)."
    ),
    parameters=(
        DATA,
        Parameter("regions", "Polygon file, folder or inline GeoJSON.",
                  {"anyOf": [{"type": "string", "subtype": "file-path"},
                             {"type": "object", "subtype": "geojson"}]}),
        Parameter("func", "The statistic.", {"type": "string",
                                             "enum": ["avg", *FUNCS]},
                  required=False, default="avg"),
        Parameter("all_touched", "Count every pixel the polygon touches, not only those "
                  "whose centre is inside.", {"type": "boolean"}, required=False,
                  default=False),
    ),
    returns={"description": "A table: one row per region and date.",
             "schema": {"type": "object", "subtype": TABLE}},
    implementation=_zonal,
    check=_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "aggregate & resample", "vector"),
)

PROCESSES = (ZONAL_STATISTICS,)
