"""Where batch results live and how they are described: files and a STAC item.

A run writes its files in ``data_dir/staging/{job_id}/{run_id}/``, a folder only that
run writes, so re-queuing or deleting a job never races with a run still writing; once
complete they are published to the result storage (:mod:`.storage`), which every
server reads downloads from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rasterio.warp import transform_bounds

from ..formats.encode import COG_MEDIA_TYPE, EXTENSIONS
from ..formats.netcdf import MEDIA_TYPE as NETCDF_MEDIA_TYPE
from ..formats.options import Format
from ..jobs import now
from ..window import Window
from .layout import RasterLayout

RASTER_STEM = "result"
RASTER_KINDS: dict[Format, tuple[str, str]] = {
    "GTiff": (COG_MEDIA_TYPE, "Result (Cloud Optimized GeoTIFF)"),
    "netCDF": (NETCDF_MEDIA_TYPE, "Result (netCDF-4, CF conventions)"),
}
"""Media type and title of each format of batch raster results."""
ITEM_NAME = "result.json"
ITEM_MEDIA_TYPE = "application/geo+json"


@dataclass(frozen=True)
class ResultFile:
    """One downloadable file of a finished run."""

    name: str
    media_type: str
    size: int
    title: str
    roles: tuple[str, ...]


def staging_dir(data_dir: Path, job_id: str, run_id: str) -> Path:
    """The local folder where one run writes its files before publishing them."""
    return data_dir / "staging" / job_id / run_id


def raster_name(fmt: Format) -> str:
    """The file name of a batch raster result in ``fmt``: ``result.tif``, ``result.nc``."""
    return f"{RASTER_STEM}.{EXTENSIONS[fmt]}"


def raster_file(path: Path, fmt: Format) -> ResultFile:
    """The record of a finished raster result (a COG or a netCDF file) at ``path``."""
    media_type, title = RASTER_KINDS[fmt]
    return ResultFile(path.name, media_type, path.stat().st_size, title, ("data",))


def stac_item(
    job_id: str,
    window: Window,
    layout: RasterLayout,
    raster: ResultFile,
    dates: tuple[datetime, ...],
) -> dict[str, Any]:
    """A STAC item describing the raster result: footprint, grid, dates, bands, size."""
    west, south, east, north = transform_bounds(window.crs, "EPSG:4326", *window.bounds,
                                                densify_pts=21)
    properties: dict[str, Any] = {"created": now()}
    if dates:
        properties.update(
            datetime=None,
            start_datetime=_iso(min(dates)),
            end_datetime=_iso(max(dates)),
        )
    else:
        properties["datetime"] = properties["created"]
    epsg = window.crs.to_epsg()
    if epsg is not None:
        properties["proj:epsg"] = epsg
    else:
        properties["proj:wkt2"] = window.crs.to_wkt()
    properties["proj:shape"] = [window.height, window.width]
    properties["proj:transform"] = list(window.transform)[:6]
    nodata = layout.nodata
    band: dict[str, Any] = {"data_type": layout.dtype}
    if nodata is not None:
        band["nodata"] = "nan" if nodata != nodata else nodata
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            "https://stac-extensions.github.io/file/v2.1.0/schema.json",
        ],
        "id": job_id,
        "bbox": [west, south, east, north],
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[west, south], [east, south], [east, north], [west, north], [west, south]]
            ],
        },
        "properties": properties,
        "assets": {
            "result": {
                "href": f"./{raster.name}",
                "type": raster.media_type,
                "title": raster.title,
                "roles": list(raster.roles),
                "file:size": raster.size,
                "raster:bands": [
                    {**band, "description": d} for d in layout.descriptions()
                ],
            }
        },
        "links": [],
    }


def write_item(directory: Path, item: dict[str, Any]) -> ResultFile:
    """Write the STAC item beside the raster result (temporary name, then rename)."""
    final = directory / ITEM_NAME
    staging = directory / f".{ITEM_NAME}.partial"
    staging.write_text(json.dumps(item, indent=1))
    os.replace(staging, final)
    return ResultFile(
        ITEM_NAME, ITEM_MEDIA_TYPE, final.stat().st_size, "STAC item describing the result",
        ("metadata",),
    )


def _iso(when: datetime) -> str:
    """ISO 8601 with a ``Z`` for UTC datetimes."""
    return when.isoformat().replace("+00:00", "Z")
