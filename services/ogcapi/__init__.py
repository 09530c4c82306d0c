"""OGC API – Tiles and OGC API – Coverages (see ``docs/ogc-api.md``).

Two roots serve the same endpoints: ``/services/{service_id}/ogcapi`` for a service of
type ``ogcapi`` (its job is the one collection; ``Access.SERVICE``), and ``/ogcapi``
(the catalog's collections for previews, and the caller's own ``ogcapi`` services
listed with links to their roots): its documents are public, its pixels are for
authenticated users (``Access.USER``, as ``/jobs/execute``) when accounts exist.
Errors are RFC 7807 problem details (:mod:`.problems`) rendered from the one error table.

Modules: ``sources`` (what a collection is), ``documents`` (landing, conformance,
collections), ``tilesets`` (tile matrix sets and tileset metadata), ``query`` (coverage
query parsing), ``coverages`` (domain set, range type, rendering), ``common`` and
``data`` (the endpoints), ``problems`` (errors), ``openapi`` (its own description),
``signedlinks`` (a signed request's signature carried into its documents' links).
"""

from __future__ import annotations

from ondemand.layer import Layer

from ..protocol import AUTH_ARG, Access, Endpoint, Handler, Protocol, ServiceType, ViewerLinks
from . import common, data
from .problems import problem_report
from .signedlinks import carrying_signature
from .sources import PREFIX, SERVICE_TYPE

_C = "/collections/{collection_id}"
_TILE = "/{tms}/{z}/{row}/{col}"
DOCUMENTS: tuple[tuple[str, Handler], ...] = (
    ("", common.landing),
    ("/", common.landing),
    ("/conformance", common.conformance),
    ("/api", common.api),
    ("/collections", common.collections),
    ("/tileMatrixSets", common.tile_matrix_sets),
    ("/tileMatrixSets/{tms}", common.tile_matrix_set),
    (_C, common.collection),
    (_C + "/tileMatrixSets/{tms}", common.collection_tile_matrix_set),
    (_C + "/map/tiles", data.tileset_list),
    (_C + "/map/tiles/{tms}", data.tileset),
    (_C + "/coverage/tiles", data.tileset_list),
    (_C + "/coverage/tiles/{tms}", data.tileset),
    (_C + "/tiles", data.tileset_list),  # geodata-tilesets' own path: the data tiles
    (_C + "/tiles/{tms}", data.tileset),
)
"""Endpoints answering JSON documents, without evaluating the collection."""
DATA: tuple[tuple[str, Handler], ...] = (
    (_C + "/map/tiles" + _TILE, data.tile),
    (_C + "/coverage/tiles" + _TILE, data.tile),
    (_C + "/tiles" + _TILE, data.tile),
    (_C + "/coverage", data.coverage),
    (_C + "/coverage/domainset", data.domainset),
    (_C + "/coverage/rangetype", data.rangetype),
)
"""Endpoints that evaluate (PNG/JPEG/GeoTIFF tiles, GeoTIFF coverages, the probed range)."""
PATHS = DOCUMENTS + DATA
"""Every endpoint below a root."""
OTHER = "/{path:path}"
"""Any other path below a root, routed last: a 404 problem instead of the app's JSON."""

SERVICE_ROOT = "/services/{service_id}/" + SERVICE_TYPE
"""The root of a service's OGC API (its ``service_url``)."""


def _viewer_links(root: str, layer: Layer, maxzoom: int) -> dict[str, str]:
    service_id = root.rsplit("/", 1)[1]
    return {
        "ogcapi": f"{root}/{SERVICE_TYPE}/",
        "ogcapi_collection": f"{root}/{SERVICE_TYPE}/collections/{service_id}",
    }


def _fields(root: str) -> dict[str, object]:
    return {"links": [{"rel": "service-desc", "href": f"{root}/{SERVICE_TYPE}/api",
                       "type": "application/vnd.oai.openapi+json;version=3.0"}]}


_OWN_DESCRIPTION = "OGC API – Tiles and Coverages: its own OpenAPI document at {root}/api"
PROTOCOL = Protocol(
    name="OGC API",
    endpoints=(
        *(Endpoint(SERVICE_ROOT + p, carrying_signature(h), ("GET",), Access.SERVICE)
          for p, h in PATHS),
        *(Endpoint(PREFIX + p, h, ("GET",), Access.PUBLIC) for p, h in DOCUMENTS),
        *(Endpoint(PREFIX + p, h, ("GET",), Access.USER) for p, h in DATA),
        Endpoint(SERVICE_ROOT + OTHER, common.not_found, ("GET",), Access.SERVICE),
        Endpoint(PREFIX + OTHER, common.not_found, ("GET",), Access.PUBLIC),
    ),
    service_types=(
        ServiceType(
            SERVICE_TYPE,
            "OGC API – Tiles 1.0 and – Coverages 1.0: a landing page at {service_url}/ "
            "(GDAL: OGCAPI:{service_url}/), map and data tiles, GeoTIFF coverages",
            AUTH_ARG,
        ),
    ),
    undocumented={SERVICE_ROOT: _OWN_DESCRIPTION, PREFIX: _OWN_DESCRIPTION},
    errors=problem_report,
    viewer=ViewerLinks(SERVICE_TYPE, _viewer_links),
    service_fields=_fields,
)

__all__ = ["DATA", "DOCUMENTS", "PATHS", "PREFIX", "PROTOCOL", "SERVICE_ROOT"]
