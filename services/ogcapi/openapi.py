"""The OpenAPI 3.0 description of the OGC API (``/ogcapi/api``, the landing's service-desc)."""

from __future__ import annotations

from typing import Any

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_C = "/collections/{collectionId}"
_TIFF = "image/tiff; application=geotiff"


def _param(name: str, where: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
        **({"style": "form", "explode": False} if schema.get("type") == "array" else {}),
    }


_COLLECTION = _param("collectionId", "path", "A published service id or a catalog collection id")
_TMS = _param("tileMatrixSetId", "path", "WebMercatorQuad, WorldCRS84Quad or the native grid")
_TILE = [
    _param("tileMatrix", "path", "Zoom level (tile matrix id)"),
    _param("tileRow", "path", "Row from the top", type="integer", minimum=0),
    _param("tileCol", "path", "Column from the left", type="integer", minimum=0),
]
_DATETIME = _param("datetime", "query", "A date of a time series (ISO 8601); default the latest")
_ERRORS = {
    code: {
        "description": text,
        "content": {_PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, text in (
        ("400", "Invalid parameter (its detail names it)"),
        ("401", "This collection is for its owner: authenticate"),
        ("403", "Wrong credentials"),
        ("404", "No such collection, tile matrix set or resource"),
        ("413", "Over the pixel limit"),
        ("503", "Busy: retry after Retry-After seconds"),
    )
}


def _get(summary: str, params: list[dict[str, Any]], media: dict[str, str]) -> dict[str, Any]:
    content = {
        m: {"schema": {"type": "object"} if m == _JSON else {"type": "string", "format": "binary"}}
        for m in media
    }
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {"200": {"description": media[next(iter(media))], "content": content},
                          **_ERRORS},
        }
    }


def _coverage_params() -> list[dict[str, Any]]:
    return [
        _COLLECTION,
        _param("subset", "query", 'e.g. E(652000:662000),N(5171000:5181000),time("2017-01-04")'),
        _param("subset-crs", "query", "CRS of the subset bounds (default the storage CRS)"),
        _param("bbox", "query", "minx,miny,maxx,maxy", type="array", items={"type": "number"},
               minItems=4, maxItems=4),
        _param("bbox-crs", "query", "CRS of bbox (default OGC:CRS84)"),
        _DATETIME,
        _param("scale-size", "query", "e.g. E(256),N(256)"),
        _param("scale-factor", "query", "Divide the number of pixels by this", type="number",
               minimum=0, exclusiveMinimum=True),
        _param("scale-axes", "query", "e.g. E(2),N(2)"),
        _param("properties", "query", "Bands to keep (names or 1-based numbers)"),
        _param("crs", "query", "Output CRS"),
        _param("f", "query", "tif (GeoTIFF)", enum=["tif", "tiff", "geotiff"]),
    ]


def document(base: str) -> dict[str, Any]:
    """The OpenAPI document, its server being ``base``."""
    json_only = {_JSON: "OK"}
    paths: dict[str, Any] = {
        "/": _get("Landing page", [], json_only),
        "/conformance": _get("Conformance classes", [], json_only),
        "/api": _get("This document", [], {"application/vnd.oai.openapi+json;version=3.0": "OK"}),
        "/collections": _get("Published jobs and catalog collections", [], json_only),
        _C: _get("One collection", [_COLLECTION, _DATETIME], json_only),
        "/tileMatrixSets": _get("Tile matrix sets", [], json_only),
        "/tileMatrixSets/{tileMatrixSetId}": _get("A tile matrix set", [_TMS], json_only),
        _C + "/tileMatrixSets/{tileMatrixSetId}": _get(
            "A collection's tile matrix set (its native grid)", [_COLLECTION, _TMS], json_only
        ),
        _C + "/coverage": _get(
            "The coverage as GeoTIFF", _coverage_params(), {"image/tiff; application=geotiff": "OK"}
        ),
        _C + "/coverage/domainset": _get("Domain set (CIS JSON)", [_COLLECTION], json_only),
        _C + "/coverage/rangetype": _get("Range type (CIS JSON)", [_COLLECTION], json_only),
    }
    for kind, root, media in (
        ("map", f"{_C}/map/tiles", {"image/png": "PNG tile", "image/jpeg": "JPEG tile"}),
        ("coverage", f"{_C}/coverage/tiles", {_TIFF: "Float GeoTIFF tile"}),
        ("coverage", f"{_C}/tiles", {_TIFF: "Float GeoTIFF tile (as …/coverage/tiles)"}),
    ):
        paths[root] = _get(f"{kind.title()} tilesets", [_COLLECTION, _DATETIME], json_only)
        paths[root + "/{tileMatrixSetId}"] = _get(
            f"A {kind} tileset", [_COLLECTION, _TMS, _DATETIME], json_only
        )
        formats = sorted({"map": ["png", "jpeg"], "coverage": ["tif"]}[kind])
        paths[root + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = _get(
            f"A {kind} tile",
            [_COLLECTION, _TMS, *_TILE, _DATETIME, _param("f", "query", "Format", enum=formats)],
            media,
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ondemand OGC API – Tiles and Coverages",
            "version": "1.0.0",
            "description": "Published on-demand jobs and catalog collections (docs/ogc-api.md)",
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["code", "description", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "message": {"type": "string"},
                        "error_code": {"type": "integer"},
                    },
                }
            }
        },
    }
