"""The STAC JSON of the demo: items with footprints, and collections with summaries."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import transform as warp_transform

from .landscape import EDGE_A, EDGE_B, EDGE_C, Grid
from .specs import Acquisition, BandSpec, CollectionSpec


def _footprint(spec: CollectionSpec, grid: Grid, acq: Acquisition) -> list[list[float]]:
    """The valid-data polygon in WGS84: the grid, minus the swath-edge strip if cut."""
    left, bottom, right, top = spec.bounds
    ring = [(left, top), (right, top), (right, bottom), (left, bottom)]
    if acq.swath_edge:
        w, h = right - left, top - bottom

        def value(p: tuple[float, float]) -> float:
            return EDGE_A * (p[0] - left) / w + EDGE_B * (top - p[1]) / h - EDGE_C

        clipped: list[tuple[float, float]] = []
        for i, p in enumerate(ring):
            q = ring[(i + 1) % len(ring)]
            vp, vq = value(p), value(q)
            if vp <= 0:
                clipped.append(p)
            if (vp <= 0) != (vq <= 0):
                t = vp / (vp - vq)
                clipped.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        ring = clipped
    xs: list[float] = []
    ys: list[float] = []
    for i, p in enumerate(ring):
        q = ring[(i + 1) % len(ring)]
        for t in np.linspace(0.0, 1.0, 10, endpoint=False):
            xs.append(p[0] + t * (q[0] - p[0]))
            ys.append(p[1] + t * (q[1] - p[1]))
    lon, lat = warp_transform(CRS.from_epsg(spec.epsg), "EPSG:4326", xs, ys)
    coords = [[round(a, 8), round(b, 8)] for a, b in zip(lon, lat, strict=True)]
    coords = coords[::-1]  # counter-clockwise exterior (RFC 7946)
    return coords + [coords[0]]


def item_json(
    spec: CollectionSpec, grid: Grid, acq: Acquisition, item_id: str
) -> dict[str, Any]:
    """The STAC item of one date."""
    ring = _footprint(spec, grid, acq)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assets: dict[str, Any] = {}
    for band in spec.bands:
        assets[band.name] = {
            "href": f"./{band.name}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "eo:bands": [_eo_band(band)],
            "proj:shape": [grid.height, grid.width],
            "proj:transform": list(grid.transform)[:6],
            "raster:bands": [_raster_band(spec, band)],
        }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": _EXTENSIONS,
        "id": item_id,
        "collection": spec.id,
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "datetime": acq.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": "sentinel-2a",
            "constellation": "sentinel-2",
            "proj:epsg": spec.epsg,
            "eo:cloud_cover": round(100.0 * acq.cloud, 1),
        },
        "assets": assets,
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "root", "href": "../collection.json", "type": "application/json"},
        ],
    }


_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
]


def _eo_band(band: BandSpec) -> dict[str, Any]:
    """The eo:bands entry of a band (with the draft's band id)."""
    entry: dict[str, Any] = {"name": band.name, "ondemand:band_id": band.band_id}
    if band.common_name:
        entry["common_name"] = band.common_name
    if band.wavelength_um is not None:
        entry["center_wavelength"] = band.wavelength_um
    if band.name == "SCL":
        entry["description"] = (
            "Scene classification: 0 no data, 3 cloud shadow, 4 vegetation, 5 bare soil, "
            "6 water, 8 cloud medium probability, 9 cloud high probability, 10 thin cirrus"
        )
    return entry


def _raster_band(spec: CollectionSpec, band: BandSpec) -> dict[str, Any]:
    """The raster:bands entry of a band (actual pixel size as spatial_resolution)."""
    if band.name == "SCL":
        return {"data_type": "uint8", "nodata": 0, "spatial_resolution": spec.pixel}
    return {"data_type": "uint16", "nodata": 0, "scale": 0.0001, "offset": 0,
            "spatial_resolution": spec.pixel, "unit": "1"}


def collection_json(spec: CollectionSpec, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The STAC collection with summaries, item_assets (nominal gsd) and item links."""
    bboxes = [it["bbox"] for it in items]
    dates = [it["properties"]["datetime"] for it in items]
    item_assets = {
        band.name: {
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "gsd": band.nominal_res,
            "eo:bands": [_eo_band(band)],
            "raster:bands": [_raster_band(spec, band)],
        }
        for band in spec.bands
    }
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": _EXTENSIONS
        + ["https://stac-extensions.github.io/item-assets/v1.0.0/schema.json"],
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "license": "CC0-1.0",
        "providers": [{"name": "ondemand demo generator (synthetic)", "roles": ["producer"]}],
        "keywords": ["synthetic", "demo", "sentinel-2"],
        "ondemand:aliases": list(spec.aliases),
        "ondemand:pixel_size_m": spec.pixel,
        "ondemand:synthetic": True,
        "extent": {
            "spatial": {"bbox": [[min(b[0] for b in bboxes), min(b[1] for b in bboxes),
                                  max(b[2] for b in bboxes), max(b[3] for b in bboxes)]]},
            "temporal": {"interval": [[min(dates), max(dates)]]},
        },
        "summaries": {
            "eo:bands": [_eo_band(b) for b in spec.bands],
            "platform": ["sentinel-2a"],
            "gsd": sorted({b.nominal_res for b in spec.bands if b.nominal_res}),
        },
        "item_assets": item_assets,
        "links": [
            {"rel": "item", "href": f"./{it['id']}/{it['id']}.json", "type": "application/json"}
            for it in items
        ],
    }
