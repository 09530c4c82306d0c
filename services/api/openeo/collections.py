"""``GET /collections`` and ``/collections/{id}`` as STAC 1.0 with the datacube extension.

``cube:dimensions`` tells clients the dimension names (x, y, t, bands) to build
graphs with; ``summaries["eo:bands"]`` carries common names (red, nir, ...) so
``ndvi()`` needs no band names.
"""

from __future__ import annotations

from typing import Any

from rasterio.warp import transform_bounds
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.catalog import Collection

from ...state import state_of
from .auth import api_url

STAC_VERSION = "1.0.0"
DATACUBE_EXTENSION = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"
EO_EXTENSION = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
MAX_TIME_VALUES = 1000
"""Up to this many acquisition dates are listed as the ``t`` dimension's values (only for
collections whose items are all known: a STAC API's are searched, never listed)."""


def _iso(collection: Collection, index: int) -> str:
    """The interval end ``index`` (0 or 1) as RFC 3339."""
    return collection.interval[index].isoformat().replace("+00:00", "Z")


def _crs_ref(collection: Collection) -> int | str:
    """The reference system as an EPSG code, else WKT2."""
    epsg = collection.crs.to_epsg()
    return int(epsg) if epsg is not None else str(collection.crs.to_wkt())


def cube_dimensions(collection: Collection) -> dict[str, Any]:
    """The ``cube:dimensions`` of a collection: x, y (native CRS), t and bands."""
    west, south, east, north = transform_bounds(
        "EPSG:4326", collection.crs, *collection.bbox, densify_pts=21
    )
    ref = _crs_ref(collection)
    t: dict[str, Any] = {"type": "temporal", "extent": [_iso(collection, 0), _iso(collection, 1)]}
    dates = sorted({i.datetime for i in collection.items}) if collection.complete else []
    if dates and len(dates) <= MAX_TIME_VALUES:
        t["values"] = [d.isoformat().replace("+00:00", "Z") for d in dates]
    step = collection.resolution
    return {
        "x": {"type": "spatial", "axis": "x", "extent": [west, east], "step": step,
              "reference_system": ref},
        "y": {"type": "spatial", "axis": "y", "extent": [south, north], "step": step,
              "reference_system": ref},
        "t": t,
        "bands": {"type": "bands", "values": [b.name for b in collection.bands]},
    }


def eo_bands(collection: Collection) -> list[dict[str, Any]]:
    """``eo:bands`` with common names and center wavelengths (micrometres)."""
    out = []
    for band in collection.bands:
        entry: dict[str, Any] = {"name": band.name}
        if band.common_name:
            entry["common_name"] = band.common_name
        if band.wavelength_nm is not None:
            entry["center_wavelength"] = round(band.wavelength_nm / 1000, 6)
        if band.res_m is not None:
            entry["gsd"] = band.res_m
        out.append(entry)
    return out


def stac_collection(collection: Collection, base: str, *, full: bool) -> dict[str, Any]:
    """One collection; ``full`` adds the datacube dimensions and summaries."""
    source = collection.stac
    extensions = [e for e in source.get("stac_extensions", []) if isinstance(e, str)]
    body: dict[str, Any] = {
        "stac_version": STAC_VERSION,
        "stac_extensions": extensions,
        "type": "Collection",
        "id": collection.id,
        "title": collection.title,
        "description": collection.description or collection.title,
        "license": collection.license or source.get("license") or "other",
        "extent": {
            "spatial": {"bbox": [list(collection.bbox)]},
            "temporal": {"interval": [[_iso(collection, 0), _iso(collection, 1)]]},
        },
        "links": [
            {"rel": "self", "href": f"{base}/collections/{collection.id}",
             "type": "application/json"},
            {"rel": "root", "href": f"{base}/", "type": "application/json"},
            {"rel": "parent", "href": f"{base}/collections", "type": "application/json"},
            *[link for link in source.get("links", []) if isinstance(link, dict)],
        ],
    }
    if isinstance(source.get("keywords"), list):
        body["keywords"] = source["keywords"]
    if isinstance(source.get("providers"), list):
        body["providers"] = source["providers"]
    if full:
        body["stac_extensions"] = sorted({*extensions, DATACUBE_EXTENSION, EO_EXTENSION})
        body["cube:dimensions"] = cube_dimensions(collection)
        summaries = dict(source.get("summaries") or {})
        summaries["eo:bands"] = eo_bands(collection)
        body["summaries"] = summaries
    return body


async def list_collections(request: Request) -> Response:
    """``GET /collections``."""
    base = api_url(request)
    return JSONResponse(
        {
            "collections": [
                stac_collection(c, base, full=False) for c in state_of(request).catalog
            ],
            "links": [
                {"rel": "self", "href": f"{base}/collections", "type": "application/json"},
                {"rel": "root", "href": f"{base}/", "type": "application/json"},
            ],
        }
    )


async def get_collection(request: Request) -> Response:
    """``GET /collections/{collection_id}``: full metadata with ``cube:dimensions``."""
    collection = state_of(request).catalog.get(request.path_params["collection_id"])
    return JSONResponse(stac_collection(collection, api_url(request), full=True))
