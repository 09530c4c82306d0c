"""Test-data factories: real COG files and static STAC collections built from numpy arrays.

``make_cog`` writes one single-band (or multi-band) Cloud-Optimized GeoTIFF with rasterio's COG
driver; ``make_collection`` writes a static STAC collection (``collection.json`` plus one folder per
item, one COG per band, relative hrefs) in the same layout as the demo catalog, so
``Catalog.load`` reads it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy
from rasterio.warp import transform_bounds

BandSpec = tuple[np.ndarray, float | None, float, float]
"""``(array, nodata, scale, offset)`` of one band of one item."""


def make_cog(
    path: Path | str,
    array: np.ndarray,
    *,
    crs: CRS | str | int,
    transform: Affine,
    nodata: float | None,
    dtype: str | None = None,
    blocksize: int = 512,
    overviews: bool = True,
) -> Path:
    """Write ``array`` (2-D ``(y, x)`` or 3-D ``(bands, y, x)``) as a COG at ``path``.

    Masked arrays have their masked pixels filled with ``nodata``. ``blocksize`` must be a
    multiple of 16. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(crs, int):
        crs = CRS.from_epsg(crs)
    elif isinstance(crs, str):
        crs = CRS.from_user_input(crs)
    data = np.ma.asarray(array)
    if data.ndim == 2:
        data = data[np.newaxis]
    if data.ndim != 3:
        raise ValueError(f"make_cog needs a 2-D or 3-D array, got shape {data.shape}")
    out_dtype = np.dtype(dtype or data.dtype)
    if np.ma.is_masked(data):
        if nodata is None:
            raise ValueError("a masked array needs a nodata value")
        filled = data.filled(nodata)
    else:
        filled = np.ma.getdata(data)
    filled = filled.astype(out_dtype, copy=False)
    count, height, width = filled.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "count": count,
        "height": height,
        "width": width,
        "dtype": out_dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    options: dict[str, Any] = {
        "BLOCKSIZE": blocksize,
        "COMPRESS": "DEFLATE",
        "OVERVIEWS": "AUTO" if overviews else "NONE",
        "OVERVIEW_RESAMPLING": "NEAREST",
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as tmp:
            tmp.write(filled)
            rio_copy(tmp, str(path), driver="COG", **options)
    return path


def make_collection(
    directory: Path | str,
    items: Sequence[tuple[str, datetime, Mapping[str, BandSpec]]],
    crs: CRS | str | int,
    transform: Affine,
    *,
    collection_id: str | None = None,
    blocksize: int = 512,
    overviews: bool = False,
    band_info: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write a static STAC collection of single-band COGs under ``directory``.

    ``items`` is a list of ``(item_id, datetime, {band: (array, nodata, scale, offset)})``; all
    arrays of an item share ``crs`` and ``transform`` (arrays of different shapes are fine: the
    transform's origin is shared and the pixel size is scaled so every band covers the extent of
    the item's first band). ``band_info`` adds eo:bands fields per band, e.g.
    ``{"B04": {"common_name": "red", "center_wavelength": 0.665}}``. Overviews are off by
    default to keep tests fast. Returns the path of ``collection.json``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    crs = CRS.from_epsg(crs) if isinstance(crs, int) else CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    cid = collection_id or directory.name
    links: list[dict[str, Any]] = [
        {"rel": "root", "href": "./collection.json", "type": "application/json"},
    ]
    all_bboxes: list[tuple[float, float, float, float]] = []
    dates: list[datetime] = []
    band_meta: dict[str, dict[str, Any]] = {}
    for item_id, when, bands in items:
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        dates.append(when)
        item_dir = directory / item_id
        assets: dict[str, Any] = {}
        item_bounds: tuple[float, float, float, float] | None = None
        first_shape: tuple[int, int] | None = None
        for band, (array, nodata, scale, offset) in bands.items():
            arr = np.ma.asarray(array)
            if arr.ndim != 2:
                raise ValueError(f"band {band} of item {item_id} must be 2-D, got {arr.shape}")
            rows, cols = arr.shape
            if first_shape is None:
                first_shape = (rows, cols)
            band_transform = transform * Affine.scale(
                first_shape[1] / cols, first_shape[0] / rows
            )
            make_cog(
                item_dir / f"{band}.tif",
                arr,
                crs=crs,
                transform=band_transform,
                nodata=nodata,
                blocksize=blocksize,
                overviews=overviews,
            )
            left, top = band_transform * (0, 0)
            right, bottom = band_transform * (cols, rows)
            item_bounds = (min(left, right), min(top, bottom), max(left, right), max(top, bottom))
            raster_band: dict[str, Any] = {
                "data_type": arr.dtype.name,
                "scale": scale,
                "offset": offset,
                "spatial_resolution": abs(band_transform.a),
            }
            if nodata is not None:
                raster_band["nodata"] = _json_nodata(nodata)
            eo_band = {"name": band, **(band_info or {}).get(band, {})}
            band_meta.setdefault(band, eo_band)
            assets[band] = {
                "href": f"./{band}.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "eo:bands": [eo_band],
                "proj:shape": [rows, cols],
                "proj:transform": list(band_transform)[:6],
                "raster:bands": [raster_band],
            }
        if item_bounds is None:
            raise ValueError(f"item {item_id} has no bands")
        bbox = transform_bounds(crs, "EPSG:4326", *item_bounds, densify_pts=21)
        all_bboxes.append(bbox)
        properties: dict[str, Any] = {"datetime": _iso(when)}
        if epsg is not None:
            properties["proj:epsg"] = epsg
        else:
            properties["proj:wkt2"] = crs.to_wkt()
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": item_id,
            "collection": cid,
            "bbox": list(bbox),
            "geometry": _bbox_polygon(bbox),
            "properties": properties,
            "assets": assets,
            "links": [
                {"rel": "root", "href": "../collection.json", "type": "application/json"},
                {"rel": "parent", "href": "../collection.json", "type": "application/json"},
                {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            ],
        }
        (item_dir / f"{item_id}.json").write_text(json.dumps(item, indent=1))
        links.append(
            {"rel": "item", "href": f"./{item_id}/{item_id}.json", "type": "application/json"}
        )
    if not all_bboxes:
        raise ValueError("a collection needs at least one item")
    union = (
        min(b[0] for b in all_bboxes),
        min(b[1] for b in all_bboxes),
        max(b[2] for b in all_bboxes),
        max(b[3] for b in all_bboxes),
    )
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": cid,
        "title": cid,
        "description": f"Test collection {cid}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [list(union)]},
            "temporal": {"interval": [[_iso(min(dates)), _iso(max(dates))]]},
        },
        "summaries": {"eo:bands": list(band_meta.values())},
        "links": links,
    }
    path = directory / "collection.json"
    path.write_text(json.dumps(collection, indent=1))
    return path


def _iso(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_nodata(value: float) -> float | str:
    """STAC encodes NaN/inf nodata as strings."""
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def _bbox_polygon(bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    """A GeoJSON polygon of a bbox."""
    w, s, e, n = bbox
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
