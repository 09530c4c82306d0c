"""The JSON documents of the OGC API: landing page, conformance, collections, links.

Pure functions of a base URL and :class:`~services.ogcapi.sources.Source` objects; the
endpoints in ``common.py`` only look things up and answer these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ondemand.layer import Layer, acquisition_times

from ..ogc.wcs.axes import crs_uri, iso
from .sources import Source

JSON = "application/json"
GEOTIFF = "image/tiff; application=geotiff"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WEB_MERCATOR_URI = "http://www.opengis.net/def/crs/EPSG/0/3857"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/jpeg",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tiff",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/geodata-coverage",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/subsetting",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/scaling",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/fieldselection",
    "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/geotiff",
)
"""Exactly the conformance classes implemented here (``tests/ogcapi`` exercises each)."""


def link(
    href: str, rel: str, media_type: str | None = JSON, title: str | None = None
) -> dict[str, str]:
    """One link object (``type`` and ``title`` when given)."""
    out = {"href": href, "rel": rel}
    if media_type is not None:
        out["type"] = media_type
    if title is not None:
        out["title"] = title
    return out


def landing(base: str, job: bool) -> dict[str, Any]:
    """The landing page of the OGC API at ``base``: a service's (``job``) or the catalog's."""
    what = (
        "A published on-demand job"
        if job
        else "The catalog's collections (and your published jobs)"
    )
    return {
        "title": "ondemand OGC API",
        "description": (
            f"{what} as OGC API – Tiles and OGC API – Coverages, computed window by window "
            "on request"
        ),
        "links": [
            link(f"{base}/", "self", JSON, "This document"),
            link(f"{base}/api", "service-desc", OPENAPI, "The OpenAPI description"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/conformance", f"{REL}conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "Collections"),
            link(f"{base}/collections", f"{REL}data", JSON, "Collections"),
            link(f"{base}/tileMatrixSets", f"{REL}tiling-schemes", JSON, "Tile matrix sets"),
        ],
    }


def conformance() -> dict[str, Any]:
    """``{"conformsTo": [...]}``."""
    return {"conformsTo": list(CONFORMANCE)}


def temporal_interval(layer: Layer) -> list[str | None]:
    """First and last date of a layer's result, or of its inputs when time is reduced."""
    times: tuple[datetime, ...] = layer.times or acquisition_times(layer.compiled)
    if not times:
        return [None, None]
    return [iso(times[0]), iso(times[-1])]


def collection(source: Source, query: str = "") -> dict[str, Any]:
    """``/collections/{id}``: extent, CRSs and the tiles and coverage links.

    ``query`` (``datetime=...``) is carried into the tiles and coverage links, so a
    client that only follows links (GDAL) reads that date of a time series.
    """
    layer = source.layer
    base = source.base
    here = f"{base}/collections/{source.id}"
    q = f"?{query}" if query else ""
    native = crs_uri(layer.native_crs)
    crss = list(dict.fromkeys([native, CRS84, WEB_MERCATOR_URI]))
    doc: dict[str, Any] = {
        "id": source.id,
        "title": source.title,
        "description": source.description,
        "dataType": "coverage",
        "layerDataType": "Coverage",
        "extent": {
            "spatial": {"bbox": [list(layer.bounds_wgs84)], "crs": CRS84},
            "temporal": {"interval": [temporal_interval(layer)], "trs": GREGORIAN},
        },
        "crs": crss,
        "storageCrs": native,
        "links": [
            link(here, "self", JSON, "This collection"),
            link(f"{base}/", "root", JSON, "The landing page"),
            link(f"{base}/collections", "parent", JSON, "All collections"),
            link(f"{here}/map/tiles{q}", f"{REL}tilesets-map", JSON, "Map tilesets"),
            link(f"{here}/coverage/tiles{q}", f"{REL}tilesets-coverage", JSON, "Data tilesets"),
            link(f"{here}/coverage{q}", f"{REL}coverage", GEOTIFF, "The coverage (GeoTIFF)"),
            link(f"{here}/coverage/domainset", f"{REL}coverage-domainset", JSON, "Domain set"),
            link(f"{here}/coverage/rangetype", f"{REL}coverage-rangetype", JSON, "Range type"),
        ],
    }
    if layer.times is not None:
        doc["extent"]["temporal"]["values"] = [iso(t) for t in layer.times]
    return doc


def collections(base: str, sources: list[Source]) -> dict[str, Any]:
    """``/collections``: every collection the caller may list."""
    return {
        "links": [
            link(f"{base}/collections", "self", JSON, "This document"),
            link(f"{base}/", "root", JSON, "The landing page"),
        ],
        "collections": [collection(s) for s in sources],
    }
