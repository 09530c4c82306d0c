"""Discovery of openEO 1.2: capabilities, well-known versions, conformance, file formats,
service types and UDF runtimes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ondemand import __version__
from ondemand.formats import output_formats
from ondemand.formats.options import TABLE_FORMATS

from .auth import API_PREFIX, api_url, server_url
from .services import service_types_document

API_VERSION = "1.2.0"
DRAFT_VERSION = "0.3.0"
CONFORMANCE = [
    "https://api.openeo.org/1.2.0",
    "https://api.stacspec.org/v1.0.0/collections",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
]

FORMAT_TITLES = {
    "GTiff": "GeoTIFF (Cloud Optimized with cog=true)",
    "PNG": "PNG image (rendered, 8 bit)",
    "JPEG": "JPEG image (rendered, 8 bit)",
    "JSON": "JSON (pixel values, or table rows)",
    "netCDF": "netCDF-4 (CF datacube: t, bands, y, x)",
    "GPKG": "GeoPackage (zonal statistics rows with geometries)",
    "GeoJSON": "GeoJSON (zonal statistics rows with geometries)",
    "CSV": "CSV (zonal statistics rows)",
}

INPUT_FORMATS: dict[str, dict[str, Any]] = {
    "GeoJSON": {"title": "GeoJSON polygons", "gis_data_types": ["vector"], "parameters": {}},
    "GPKG": {"title": "GeoPackage polygons", "gis_data_types": ["vector"], "parameters": {}},
    "GTiff": {"title": "GeoTIFF (STAC catalogs of COGs)", "gis_data_types": ["raster"],
              "parameters": {}},
}


def file_formats_document() -> dict[str, Any]:
    """The body of ``GET /file_formats``: output formats with their options as parameters."""
    output: dict[str, Any] = {}
    for name, options in output_formats()["formats"].items():
        kinds = ["raster"] if name not in TABLE_FORMATS else (
            ["raster", "table"] if name == "JSON" else ["vector", "table"]
        )
        output[name] = {
            "title": FORMAT_TITLES.get(name, name),
            "gis_data_types": kinds,
            "parameters": {
                option: {"description": str(text)} for option, text in options.items()
            },
        }
    return {"input": INPUT_FORMATS, "output": output}


def api_routes(app_routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes mounted at the 1.2 prefix of an application."""
    for route in app_routes:
        if isinstance(route, Mount) and route.path == API_PREFIX:
            inner = getattr(route.app, "app", route.app)
            return list(getattr(inner, "routes", []))
    return []


def endpoints(routes: list[BaseRoute]) -> list[dict[str, Any]]:
    """Every 1.2 route's path (relative to the API root) and methods."""
    merged: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Route):
            path = route.path.replace(":path", "").replace(":filepath", "")
            merged.setdefault(path, set()).update((route.methods or set()) - {"HEAD"})
    return [{"path": p, "methods": sorted(m)} for p, m in merged.items()]


async def capabilities(request: Request) -> Response:
    """``GET /openeo/1.2/``: versions, endpoints, links and conformance classes."""
    base = api_url(request)
    return JSONResponse(
        {
            "api_version": API_VERSION,
            "backend_version": __version__,
            "stac_version": "1.0.0",
            "type": "Catalog",
            "id": "ondemand",
            "title": "ondemand",
            "description": "On-demand Earth-observation processing: openEO API 1.2 over the "
            "same engine, jobs and services as the OGC tile and coverage endpoints.",
            "production": True,
            "endpoints": endpoints(api_routes(request.app.routes)),
            "conformsTo": CONFORMANCE,
            "links": [
                {"rel": "self", "href": f"{base}/", "type": "application/json"},
                {"rel": "root", "href": f"{base}/", "type": "application/json"},
                {"rel": "conformance", "href": f"{base}/conformance",
                 "type": "application/json"},
                {"rel": "data", "href": f"{base}/collections", "type": "application/json"},
                {"rel": "version-history", "href": f"{server_url(request)}/.well-known/openeo",
                 "type": "application/json"},
            ],
        }
    )


async def well_known(request: Request) -> Response:
    """``GET /.well-known/openeo`` (at the server root): both API versions."""
    root = server_url(request)
    return JSONResponse(
        {
            "versions": [
                {"url": f"{root}/openeo/1.2/", "api_version": API_VERSION, "production": True},
                {"url": f"{root}/", "api_version": DRAFT_VERSION, "production": False},
            ]
        }
    )


async def conformance(request: Request) -> Response:
    """``GET /conformance``."""
    return JSONResponse({"conformsTo": CONFORMANCE})


async def file_formats(request: Request) -> Response:
    """``GET /file_formats``."""
    return JSONResponse(file_formats_document())


async def service_types(request: Request) -> Response:
    """``GET /service_types``: XYZ, WMTS and WCS with their configuration."""
    return JSONResponse(service_types_document())


async def udf_runtimes(request: Request) -> Response:
    """``GET /udf_runtimes``: none (user code never runs on this server)."""
    return JSONResponse({})
