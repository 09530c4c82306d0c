"""Discovery endpoints: capabilities, collections (draft and STAC), processes, output formats."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ondemand import __version__, errors
from ondemand.formats import output_formats
from ondemand.graphref import DECLARATION as PROCESS_GRAPH
from ondemand.processes import REGISTRY

from ..maps.viewer import index_page, prefers_html
from ..state import state_of

API_VERSION = "0.3.0"


async def capabilities(request: Request) -> Response:
    """``GET /``: API version and the endpoints this server implements (HTML for browsers)."""
    if prefers_html(request):
        return await index_page(request)
    return JSONResponse(
        {
            "version": API_VERSION,
            "api_version": API_VERSION,
            "backend_version": _backend_version(),
            "title": "ondemand",
            "description": (
                "On-demand Earth-observation processing served as OGC tiles and coverages"
            ),
            "endpoints": endpoint_paths(request.app),
        }
    )


def _backend_version() -> str:
    """The installed package version."""
    return __version__


def endpoint_paths(app: Starlette) -> list[dict[str, object]]:
    """Every route's path and methods, for the capabilities document."""
    out: list[dict[str, object]] = []
    for route in app.routes:
        if isinstance(route, Route):
            methods = sorted((route.methods or set()) - {"HEAD"})
            out.append({"path": route.path.replace(":path", ""), "methods": methods})
    return out


async def list_data(request: Request) -> Response:
    """``GET /data``: every collection's id, description and source."""
    catalog = state_of(request).catalog
    query = request.query_params.get("qname", "").lower()
    body = [
        {"product_id": c.id, "description": c.description, "source": c.source}
        for c in catalog
        if not query or query in c.id.lower() or query in c.title.lower()
    ]
    return JSONResponse(body)


async def get_data(request: Request) -> Response:
    """``GET /data/{product_id}``: one collection in the draft's shape."""
    collection = _collection(request, request.path_params["product_id"])
    return JSONResponse(collection.product())


async def list_collections(request: Request) -> Response:
    """``GET /collections``: the collections as STAC."""
    catalog = state_of(request).catalog
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "collections": [_stac_collection(c.stac, c.id, base) for c in catalog],
            "links": [
                {"rel": "self", "href": f"{base}/collections", "type": "application/json"},
                {"rel": "root", "href": f"{base}/", "type": "application/json"},
            ],
        }
    )


async def get_collection(request: Request) -> Response:
    """``GET /collections/{id}``: one collection as STAC."""
    collection = _collection(request, request.path_params["collection_id"])
    base = str(request.base_url).rstrip("/")
    return JSONResponse(_stac_collection(collection.stac, collection.id, base))


def _stac_collection(stac: dict[str, Any], collection_id: str, base: str) -> dict[str, Any]:
    """The collection's STAC JSON with links to this server."""
    links = [
        {"rel": "self", "href": f"{base}/collections/{collection_id}", "type": "application/json"},
        {"rel": "root", "href": f"{base}/", "type": "application/json"},
        {"rel": "parent", "href": f"{base}/collections", "type": "application/json"},
    ]
    return {**stac, "id": collection_id, "links": links}


def _collection(request: Request, collection_id: str) -> Any:
    """The collection, or 404 for an unknown id."""
    try:
        return state_of(request).catalog.get(collection_id)
    except errors.CollectionNotFound as exc:
        raise errors.ResourceNotFound(exc.message) from None


async def list_processes(request: Request) -> Response:
    """``GET /processes``: every process with its description, the draft's
    ``process_graph`` (a stored graph's reference) among them."""
    listed = [*REGISTRY.list_processes(), dict(PROCESS_GRAPH)]
    return JSONResponse(sorted(listed, key=lambda p: str(p["process_id"])))


async def get_process(request: Request) -> Response:
    """``GET /processes/{process_id}``: one process's declaration (aliases resolve)."""
    process_id = request.path_params["process_id"]
    if process_id == PROCESS_GRAPH["process_id"]:
        return JSONResponse(dict(PROCESS_GRAPH))
    if process_id not in REGISTRY:
        raise errors.ResourceNotFound(f"Process {process_id!r} does not exist; see GET /processes")
    return JSONResponse(REGISTRY.describe(process_id))


async def get_output_formats(request: Request) -> Response:
    """``GET /capabilities/output_formats``: formats and their options."""
    return JSONResponse(output_formats())
