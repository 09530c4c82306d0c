"""OGC API – Common endpoints: landing page, conformance, OpenAPI, collections, TMS."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ResourceNotFound
from ondemand.tms import native_tms, well_known

from ..state import run_blocking
from . import documents, tilesets
from .openapi import document as openapi_document
from .sources import api_root, list_sources, source_of

CARRIED = ("datetime", "tms-encoding")
"""Query parameters a document passes on to the links it gives (see ``docs/ogc-api.md``)."""


def carried_query(request: Request) -> str:
    """The carried parameters of this request, URL-encoded (``datetime=...``)."""
    q = request.query_params
    return urlencode({k: q[k] for k in CARRIED if q.get(k)}, safe=":/")


def _job_root(request: Request) -> bool:
    return "service_id" in request.path_params


async def landing(request: Request) -> Response:
    """``GET {root}/``: links to the OpenAPI document, conformance and collections."""
    return JSONResponse(documents.landing(api_root(request), _job_root(request)))


async def conformance(request: Request) -> Response:
    """``GET {root}/conformance``."""
    return JSONResponse(documents.conformance())


async def api(request: Request) -> Response:
    """``GET {root}/api``: the OpenAPI 3.0 description of these endpoints."""
    return JSONResponse(openapi_document(api_root(request)), media_type=documents.OPENAPI)


async def collections(request: Request) -> Response:
    """``GET {root}/collections``: a service's job, or the caller's jobs and the catalog."""
    sources = await run_blocking(request, list_sources, request)
    body = await run_blocking(request, documents.collections, api_root(request), sources)
    return JSONResponse(body)


async def collection(request: Request) -> Response:
    """``GET {root}/collections/{collection_id}``."""
    source = await source_of(request)
    body = await run_blocking(request, documents.collection, source, carried_query(request))
    return JSONResponse(body)


async def tile_matrix_sets(request: Request) -> Response:
    """``GET {root}/tileMatrixSets``."""
    return JSONResponse(tilesets.tms_list(api_root(request)))


async def tile_matrix_set(request: Request) -> Response:
    """``GET {root}/tileMatrixSets/{tms}``: WebMercatorQuad or WorldCRS84Quad."""
    tms_id = request.path_params["tms"]
    if tms_id not in tilesets.WELL_KNOWN:
        raise ResourceNotFound(
            f"Tile matrix set {tms_id!r} is not defined here; the sets are "
            f"{', '.join(tilesets.WELL_KNOWN)} (native grids: "
            "{root}/collections/{collectionId}/tileMatrixSets/{id})"
        )
    encoding = request.query_params.get("tms-encoding")
    return JSONResponse(tilesets.tms_document(well_known(tms_id), encoding))


async def collection_tile_matrix_set(request: Request) -> Response:
    """``GET {root}/collections/{id}/tileMatrixSets/{tms}``: the collection's native grid."""
    source = await source_of(request)
    tms_id = request.path_params["tms"]
    native = native_tms(source.layer)
    encoding = request.query_params.get("tms-encoding")
    if tms_id in tilesets.WELL_KNOWN:
        return JSONResponse(tilesets.tms_document(well_known(tms_id), encoding))
    if tms_id not in (native.id, "native"):
        raise ResourceNotFound(
            f"Tile matrix set {tms_id!r} is not one of this collection's: "
            f"{', '.join((*tilesets.WELL_KNOWN, str(native.id)))}"
        )
    return JSONResponse(tilesets.tms_document(native, encoding))


async def not_found(request: Request) -> Response:
    """Any other path below a root: a 404 problem naming where the resources are."""
    raise ResourceNotFound(
        f"{request.url.path} is not a resource of this OGC API; start at "
        f"{api_root(request)}/ (its links) or {api_root(request)}/api (every path)"
    )
