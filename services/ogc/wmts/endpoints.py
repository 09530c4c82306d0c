"""WMTS 1.0.0 of a published job: KVP and RESTful GetCapabilities, GetTile, GetFeatureInfo.

- KVP at ``/services/{id}/wmts``: parameter names are case-insensitive, values
  (REQUEST, FORMAT, STYLE, ...) exact as advertised. ``SERVICE=WMS`` (QGIS probing a
  bare URL) and a missing SERVICE still get the capabilities.
- REST: ``/services/{id}/wmts/1.0.0/WMTSCapabilities.xml``; tiles at
  ``.../wmts/tile/1.0.0/{Layer}/{Style}[/{Time}]/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.{png|jpg|tif}``
  (``{Time}`` only for layers with a time axis); feature info at the same path with
  ``/{J}/{I}.{json|txt|xml}`` in place of the extension.

Tiles go through the one tile path (:mod:`ondemand.tiles`, with its disk cache);
feature info evaluates the same tile window. Every error is an ``ows:ExceptionReport``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ondemand.layer import Layer
from ondemand.tiles import prepare_tile, render_prepared, tile_matrix_set, tile_style

from ...maps.tiles import client_time, not_modified, tile_cache, tile_headers
from ...published import published_of
from ...state import run_blocking, state_of
from ..common import Kvp, OWSException, as_ogc, exception_response, invalid, missing
from .capabilities import DEFAULT_STYLE, FORMATS, INFO_FORMATS, ServiceInfo, capabilities
from .info import TileRequest, feature_info, validate_tile

VERSION = "1.0.0"
XML = "application/xml"
_OPERATIONS = ("GetCapabilities", "GetTile", "GetFeatureInfo")
_EXTENSIONS = {ext: media for media, ext in FORMATS.items()} | {
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}
_INFO_EXTENSIONS = {ext: media for media, ext in INFO_FORMATS.items()}


def _layer(request: Request) -> Layer:
    return published_of(request).layer


def error_report(request: Request, exc: Exception) -> Response:
    """WMTS errors: an OWS 1.1 ``ows:ExceptionReport`` with the WMTS code and status."""
    return exception_response(as_ogc(exc, "ows"), version=VERSION)


def service_info(request: Request, layer: Layer) -> ServiceInfo:
    """The URLs and title the capabilities of this request's service advertise."""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/services/{request.path_params['service_id']}/wmts"
    return ServiceInfo(url=url, title=f"{layer.title} (WMTS)", abstract=f"On-demand job {layer.id}")


async def _capabilities(request: Request, layer: Layer) -> Response:
    body = await run_blocking(request, capabilities, layer, service_info(request, layer))
    return Response(body, media_type=XML)


async def kvp(request: Request) -> Response:
    """``GET /services/{id}/wmts?SERVICE=WMTS&REQUEST=...``: the KVP binding."""
    params = Kvp.of(request.query_params)
    layer = _layer(request)
    operation = params.get("REQUEST")
    if operation is None:
        if not request.query_params:
            return await _capabilities(request, layer)
        raise missing("REQUEST", f"one of {', '.join(_OPERATIONS)}")
    service = params.get("SERVICE")
    if operation == "GetCapabilities":
        if service is not None and service.upper() not in ("WMTS", "WMS"):
            raise invalid("SERVICE", f"SERVICE={service!r} is not WMTS")
        _accept_versions(params)
        return await _capabilities(request, layer)
    if operation not in _OPERATIONS:
        raise OWSException(
            "OperationNotSupported",
            f"REQUEST={operation!r} is not supported; WMTS operations (case-sensitive): "
            + ", ".join(_OPERATIONS),
            "REQUEST",
        )
    if service is None:
        raise missing("SERVICE", "WMTS")
    if service != "WMTS":
        raise invalid("SERVICE", f"SERVICE={service!r} is not WMTS")
    version = params.get("VERSION")
    if version is not None and version != VERSION:
        raise invalid("VERSION", f"VERSION={version!r} is not supported; use {VERSION}")
    tile = _kvp_tile(params, layer)
    if operation == "GetTile":
        return await _tile(request, layer, tile)
    info_format = params.choice("INFOFORMAT", INFO_FORMATS)
    i, j = params.integer("I"), params.integer("J")
    return await _info(request, layer, tile, i, j, info_format)


def _accept_versions(params: Kvp) -> None:
    accepted = params.get("ACCEPTVERSIONS")
    if accepted is not None and VERSION not in [v.strip() for v in accepted.split(",")]:
        raise OWSException(
            "VersionNegotiationFailed",
            f"ACCEPTVERSIONS={accepted!r} lists no version this server speaks ({VERSION})",
            "ACCEPTVERSIONS",
        )


def _kvp_tile(params: Kvp, layer: Layer) -> TileRequest:
    name = params.require("LAYER")
    if "STYLE" not in params:
        raise missing("STYLE", f"use {DEFAULT_STYLE} or a style of the capabilities")
    return TileRequest(
        layer=name,
        style=params.get("STYLE", DEFAULT_STYLE) or DEFAULT_STYLE,
        media_type=params.choice("FORMAT", FORMATS),
        tms=params.require("TILEMATRIXSET"),
        matrix=params.require("TILEMATRIX"),
        row=params.integer("TILEROW"),
        col=params.integer("TILECOL"),
        time=client_time(params.get("TIME")),
    )


async def _tile(request: Request, layer: Layer, tile: TileRequest) -> Response:
    z = validate_tile(layer, tile)
    colormap = None if tile.style == DEFAULT_STYLE else tile.style
    prepared = await run_blocking(
        request,
        prepare_tile,
        layer,
        tile_matrix_set(layer, tile.tms),
        z,
        tile.col,
        tile.row,
        tile.media_type,
        tile.time,
        tile_style(colormap),
    )
    headers = tile_headers(prepared)
    if not_modified(request, prepared.etag):
        return Response(status_code=304, headers=headers)
    engine = state_of(request).engine
    result = await run_blocking(request, render_prepared, engine, prepared, tile_cache(request))
    return Response(result.content, media_type=result.media_type, headers=headers)


async def _info(
    request: Request, layer: Layer, tile: TileRequest, i: int, j: int, info_format: str
) -> Response:
    validate_tile(layer, tile)
    engine = state_of(request).engine
    body = await run_blocking(request, feature_info, engine, layer, tile, i, j, info_format)
    return Response(body, media_type=info_format)


async def rest_capabilities(request: Request) -> Response:
    """``GET /services/{id}/wmts/1.0.0/WMTSCapabilities.xml``."""
    return await _capabilities(request, _layer(request))


async def rest_tile(request: Request) -> Response:
    """``GET /services/{id}/wmts/tile/1.0.0/...``: a tile or a feature info (see module doc)."""
    parts = request.url.path.split("/tile/1.0.0/", 1)[1].split("/")
    layer = _layer(request)
    base = 7 if layer.has_time else 6
    if len(parts) not in (base, base + 2):
        raise OWSException(
            "NoApplicableCode",
            f"No WMTS resource at this path: expected {{Layer}}/{{Style}}/"
            f"{'{Time}/' if layer.has_time else ''}{{TileMatrixSet}}/{{TileMatrix}}/"
            "{TileRow}/{TileCol}.png (or .jpg, .tif; /{J}/{I}.json for feature info)",
            None,
            404,
        )
    name, style = parts[0], parts[1]
    time = parts[2] if layer.has_time else None
    tms, matrix, row = parts[base - 4], parts[base - 3], parts[base - 2]
    last, dot, ext = parts[-1].rpartition(".")
    if not dot:
        raise invalid("FORMAT", f"{parts[-1]!r} has no file extension")
    col = parts[base - 1] if len(parts) == base + 2 else last
    table = _EXTENSIONS if len(parts) == base else _INFO_EXTENSIONS
    if ext.lower() not in table:
        label = "INFOFORMAT" if len(parts) > base else "FORMAT"
        raise invalid(label, f"Extension .{ext} is not one of: {', '.join(table)}")
    tile = TileRequest(
        layer=name,
        style=style,
        media_type=table[ext.lower()],
        tms=tms,
        matrix=matrix,
        row=_path_int("TILEROW", row),
        col=_path_int("TILECOL", col),
        time=client_time(time),
    )
    if len(parts) == base:
        return await _tile(request, layer, tile)
    j, i = _path_int("J", parts[base]), _path_int("I", last)
    return await _info(request, layer, tile, i, j, tile.media_type)


def _path_int(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise invalid(name, f"{name}={text!r} is not a non-negative integer")
    return int(text)
